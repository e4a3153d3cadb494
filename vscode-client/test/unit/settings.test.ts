import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  configurationItem,
  configurationPayload,
  DEFAULT_SPEC_GLOBS,
  documentSelector,
  narrowedPolicyMode,
  readSettings,
  toServerSettings,
  userValue,
} from "../../src/settings";

const getter = (values: Record<string, unknown>) => (key: string) => values[key];

describe("readSettings", () => {
  test("defaults when nothing is set", () => {
    const s = readSettings(getter({}));
    assert.deepEqual(s, {
      serverCommand: "",
      serverArgs: [],
      specGlobs: DEFAULT_SPEC_GLOBS,
      sidecar: { enabled: true, port: null },
      model: "",
      policyMode: "ask",
      approvalPrompt: "codeAction",
      notifyApprovals: true,
    });
  });

  test("wrong types fall back instead of reaching the server", () => {
    const s = readSettings(
      getter({
        specGlobs: ["", "  ", 3],
        "sidecar.port": 70000,
        approvalPrompt: "popup",
        "server.args": ["--x", 5, ""],
        policyMode: "",
      }),
    );
    assert.deepEqual(s.specGlobs, DEFAULT_SPEC_GLOBS);
    assert.equal(s.sidecar.port, null);
    assert.equal(s.approvalPrompt, "codeAction");
    assert.deepEqual(s.serverArgs, ["--x"]);
    assert.equal(s.policyMode, "ask");
  });
});

describe("toServerSettings", () => {
  test("maps every setting and the token under the contract's keys", () => {
    const s = readSettings(
      getter({
        specGlobs: ["docs/**/*.spec.md"],
        "sidecar.enabled": false,
        "sidecar.port": 8790,
        model: " openai:gpt-4.1 ",
        policyMode: "auto-edit",
        approvalPrompt: "messageRequest",
      }),
    );
    assert.deepEqual(configurationPayload(toServerSettings(s, " tok-123 ")), {
      harness: {
        specGlobs: ["docs/**/*.spec.md"],
        sidecar: { enabled: false, port: 8790 },
        token: "tok-123",
        model: "openai:gpt-4.1",
        policyMode: "auto-edit",
        approvalPrompt: "messageRequest",
      },
    });
  });

  test("unset optional values are left out so the server keeps its defaults", () => {
    const out = toServerSettings(readSettings(getter({})), "");
    assert.deepEqual(out, {
      specGlobs: DEFAULT_SPEC_GLOBS,
      sidecar: { enabled: true },
      policyMode: "ask",
      approvalPrompt: "codeAction",
    });
    assert.equal("token" in out, false);
    assert.equal("model" in out, false);
  });
});

describe("configurationItem", () => {
  const settings = toServerSettings(readSettings(getter({ "sidecar.port": 9000 })), "t");
  test("answers the harness section and nested keys, not other sections", () => {
    assert.deepEqual(configurationItem("harness", settings), settings);
    assert.equal(configurationItem("harness.sidecar.port", settings), 9000);
    assert.equal(configurationItem("harness.token", settings), "t");
    assert.equal(configurationItem("harness.nope.deeper", settings), null);
    assert.equal(configurationItem("python", settings), undefined);
    assert.equal(configurationItem("harnessx", settings), undefined);
    assert.equal(configurationItem(undefined, settings), undefined);
  });
});

describe("documentSelector", () => {
  test("one file filter per glob", () => {
    assert.deepEqual(documentSelector(DEFAULT_SPEC_GLOBS), [
      { scheme: "file", pattern: "**/specs/**/spec.md" },
      { scheme: "file", pattern: "**/*.spec.md" },
    ]);
  });
  test("workspace-relative globs (the server's style) match anywhere in VS Code", () => {
    assert.deepEqual(documentSelector(["specs/**/spec.md", "./docs/*.spec.md", "/abs/x.md"]), [
      { scheme: "file", pattern: "**/specs/**/spec.md" },
      { scheme: "file", pattern: "**/docs/*.spec.md" },
      { scheme: "file", pattern: "/abs/x.md" },
    ]);
  });
});

describe("narrowedPolicyMode", () => {
  test("the user's setting, or ask by default", () => {
    assert.equal(narrowedPolicyMode(undefined), "ask");
    assert.equal(narrowedPolicyMode({ defaultValue: "ask" }), "ask");
    assert.equal(narrowedPolicyMode({ defaultValue: "ask", globalValue: "auto-edit" }), "auto-edit");
  });

  test("a repository's .vscode/settings.json cannot widen it", () => {
    assert.equal(narrowedPolicyMode({ defaultValue: "ask", workspaceValue: "full-auto" }), "ask");
    assert.equal(
      narrowedPolicyMode({ defaultValue: "ask", globalValue: "auto-edit", workspaceFolderValue: "full-auto" }),
      "auto-edit",
    );
  });

  test("but may narrow it", () => {
    assert.equal(narrowedPolicyMode({ globalValue: "full-auto", workspaceValue: "ask" }), "ask");
    assert.equal(
      narrowedPolicyMode({ globalValue: "auto-edit", workspaceValue: "ask", workspaceFolderValue: "read-only" }),
      "read-only",
    );
  });

  test("unknown values are ignored", () => {
    assert.equal(narrowedPolicyMode({ globalValue: "yolo", workspaceValue: "bogus" }), "ask");
  });
});

describe("userValue (server.command, server.args)", () => {
  test("the user's value or the default; a repository's value never counts", () => {
    assert.equal(userValue({ defaultValue: "harness-ls", workspaceValue: "./evil.sh" }), "harness-ls");
    assert.equal(
      userValue({ defaultValue: "harness-ls", globalValue: "/opt/h/bin/harness-ls", workspaceFolderValue: "x" }),
      "/opt/h/bin/harness-ls",
    );
    assert.deepEqual(userValue({ defaultValue: [], workspaceValue: ["--evil"] }), []);
    assert.equal(userValue(undefined), undefined);
  });
});
