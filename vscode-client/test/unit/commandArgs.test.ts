import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  argumentKind,
  commandContextKeys,
  errorText,
  hasUsableArgument,
  resultLocation,
  serverAlreadyToldUser,
  validateSpecName,
} from "../../src/commandArgs";

describe("command arguments", () => {
  test("kinds follow the server's command signatures", () => {
    assert.equal(argumentKind("harness.runSpec"), "specUri");
    assert.equal(argumentKind("harness.approve"), "approvalId");
    assert.equal(argumentKind("harness.cancelRun"), "runId");
    assert.equal(argumentKind("harness.newSpec"), "specName");
    assert.equal(argumentKind("harness.openDashboard"), "none");
    assert.equal(argumentKind("harness.unknown"), "none");
  });

  test("palette calls (no args) need a prompt; code lens calls do not", () => {
    assert.equal(hasUsableArgument("harness.runSpec", []), false);
    assert.equal(hasUsableArgument("harness.runSpec", ["file:///a/spec.md"]), true);
    assert.equal(hasUsableArgument("harness.approve", [""]), false);
    assert.equal(hasUsableArgument("harness.openDashboard", []), true);
  });

  test("spec names become directory names", () => {
    assert.equal(validateSpecName("add-login"), undefined);
    assert.match(validateSpecName("") ?? "", /Enter a name/);
    assert.match(validateSpecName("../etc") ?? "", /letters, digits/);
    assert.match(validateSpecName("a b") ?? "", /letters, digits/);
  });

  test("result locations", () => {
    assert.deepEqual(resultLocation("file:///w/specs/a/spec.md"), { uri: "file:///w/specs/a/spec.md" });
    assert.deepEqual(resultLocation("/w/specs/a/spec.md"), { path: "/w/specs/a/spec.md" });
    assert.deepEqual(resultLocation({ uri: "file:///x" }), { uri: "file:///x" });
    assert.deepEqual(resultLocation({ path: "/x" }), { path: "/x" });
    assert.equal(resultLocation(null), undefined);
    assert.equal(resultLocation({}), undefined);
  });

  test("server-defined errors were already shown by the server", () => {
    assert.equal(serverAlreadyToldUser({ code: -32001, message: "spec has errors" }), true);
    assert.equal(serverAlreadyToldUser({ code: -32602, message: "invalid params" }), false);
    assert.equal(serverAlreadyToldUser({ code: -32603, message: "internal" }), false);
    assert.equal(serverAlreadyToldUser(new Error("x")), false);
  });

  test("error text", () => {
    assert.equal(errorText(new Error("already answered (by dashboard, approve)")), "already answered (by dashboard, approve)");
    assert.equal(errorText({ message: "m", code: -32602 }), "m");
    assert.equal(errorText("s"), "s");
  });
});

describe("commandContextKeys", () => {
  test("one key per known server command, true when offered", () => {
    const keys = commandContextKeys(["harness.runSpec", "harness.approve", "harness.other"]);
    assert.equal(keys["harness.offers.runSpec"], true);
    assert.equal(keys["harness.offers.approve"], true);
    assert.equal(keys["harness.offers.deny"], false);
    assert.equal(Object.keys(keys).length, 10);
  });
});
