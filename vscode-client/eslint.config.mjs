// Flat config: typescript-eslint's recommended type-aware rules for src/ and test/.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "out/**", "node_modules/**", ".e2e/**", "scripts/**", "eslint.config.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's describe/test return promises the runner tracks itself
        { allowForKnownSafeCalls: [{ from: "package", name: ["describe", "test"], package: "node:test" }] },
      ],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      eqeqeq: ["error", "always"],
      curly: "error",
      "no-console": ["error", { allow: ["log", "error"] }],
    },
  },
);
