import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  type BundleManifest,
  envDir,
  installSteps,
  noPythonMessage,
  parseManifest,
  parseProbe,
  pythonCandidates,
  satisfies,
  serverCommandLine,
  stampMatches,
} from "../../src/bundledServer";

const MANIFEST: BundleManifest = {
  name: "harness-ls",
  version: "0.1.0",
  requirement: "harness-ls==0.1.0",
  pip: "pip-25.3-py3-none-any.whl",
  min_python: "3.11",
  sha256: "0123456789abcdef0123456789abcdef",
  wheels: ["harness_ls-0.1.0-py3-none-any.whl"],
};

describe("bundled server plan", () => {
  test("reads the manifest, refuses a broken one", () => {
    assert.deepEqual(parseManifest(JSON.stringify(MANIFEST)), MANIFEST);
    assert.equal(parseManifest("{"), undefined);
    assert.equal(parseManifest(JSON.stringify({ version: "0.1.0" })), undefined);
  });

  test("tries the Python extension's interpreter first, then versioned names", () => {
    assert.deepEqual(pythonCandidates(["/proj/.venv/bin/python"], "linux")[0], ["/proj/.venv/bin/python"]);
    assert.deepEqual(pythonCandidates(undefined, "linux").map((c) => c.join(" ")), [
      "python3.13", "python3.12", "python3.11", "python3", "python",
    ]);
    assert.deepEqual(pythonCandidates(undefined, "win32")[0], ["py", "-3"]);
  });

  test("a probe answer gives the version and the real executable; 3.10 is too old", () => {
    const info = parseProbe(["python3"], "3.11 /usr/bin/python3.11\n");
    assert.deepEqual(info, { command: ["python3"], version: [3, 11], executable: "/usr/bin/python3.11" });
    assert.ok(info && satisfies(info, "3.11"));
    const old = parseProbe(["python3"], "3.10 /usr/bin/python3.10");
    assert.ok(old && !satisfies(old, "3.11"));
    assert.ok(satisfies({ command: [], version: [4, 0], executable: "" }, "3.11"));
    assert.equal(parseProbe(["python"], "Python 2.7.18"), undefined);
  });

  test("one venv per bundle content, in the extension's storage", () => {
    assert.equal(envDir("/home/me/.vscode/gs", MANIFEST, "linux"), "/home/me/.vscode/gs/server-0.1.0-0123456789ab");
    assert.deepEqual(serverCommandLine("/s/server-x", "linux"), { command: "/s/server-x/bin/python", args: ["-m", "harness_ls"] });
    assert.equal(serverCommandLine("C:\\s\\server-x", "win32").command, "C:\\s\\server-x\\Scripts\\python.exe");
  });

  test("offline: venv without pip, then pip from its wheel with --no-index on the bundled wheels", () => {
    const python = { command: ["py", "-3"], version: [3, 12] as [number, number], executable: "C:\\Py\\python.exe" };
    const steps = installSteps(python, "/ext/bundled", MANIFEST, "/s/tmp", "linux", false);
    assert.deepEqual(steps[0].args, ["-3", "-m", "venv", "--without-pip", "/s/tmp"]);
    assert.equal(steps[0].command, "py");
    assert.equal(steps[1].command, "/s/tmp/bin/python");
    assert.equal(steps[1].args[0], "/ext/bundled/wheels/pip-25.3-py3-none-any.whl/pip");
    assert.ok(steps[1].args.includes("--no-index") && steps[1].args.includes("--isolated"));
    assert.equal(steps[1].args.at(-1), "harness-ls==0.1.0");
  });

  test("online retry: the user's index config applies, versions pinned by the bundle's constraints", () => {
    const python = { command: ["python3"], version: [3, 13] as [number, number], executable: "/usr/bin/python3" };
    const args = installSteps(python, "/ext/bundled", MANIFEST, "/s/tmp", "darwin", true)[1].args;
    assert.ok(!args.includes("--no-index") && !args.includes("--isolated"));
    assert.deepEqual(args.slice(args.indexOf("--constraint"), args.indexOf("--constraint") + 2), [
      "--constraint", "/ext/bundled/constraints.txt",
    ]);
    assert.ok(args.includes("--find-links"));
  });

  test("the stamp must name this bundle's hash", () => {
    assert.ok(stampMatches(JSON.stringify({ sha256: MANIFEST.sha256 }), MANIFEST));
    assert.ok(!stampMatches(JSON.stringify({ sha256: "other" }), MANIFEST));
    assert.ok(!stampMatches("not json", MANIFEST));
    assert.ok(!stampMatches(undefined, MANIFEST));
  });

  test("no Python: the message says which were tried and what to install", () => {
    const text = noPythonMessage(["python3 (Python 3.9)", "python (not found)"], "3.11");
    assert.match(text, /Python 3\.11 or newer/);
    assert.match(text, /python3 \(Python 3\.9\)/);
    assert.match(text, /harness\.server\.command/);
  });
});
