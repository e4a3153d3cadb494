import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  approvalMessage,
  approvalPickItem,
  normalizeUri,
  parseApprovalRequest,
  PendingApprovals,
  shouldNotify,
} from "../../src/approvals";

const spec = "file:///work/proj/specs/login/spec.md";

describe("parseApprovalRequest", () => {
  test("keeps the contract's fields and rejects payloads without id", () => {
    assert.deepEqual(parseApprovalRequest({ id: "st_1", runId: "run_1", summary: " write src/a.py ", specUri: spec }), {
      id: "st_1",
      runId: "run_1",
      summary: "write src/a.py",
      specUri: spec,
    });
    assert.equal(parseApprovalRequest({ runId: "run_1" }), undefined);
    assert.equal(parseApprovalRequest(null), undefined);
    assert.equal(parseApprovalRequest({ id: "x" })?.summary, "approval x");
  });
});

describe("shouldNotify", () => {
  const req = { id: "st_1", runId: "run_1", summary: "shell: pytest -q", specUri: spec };
  test("only when the spec is not visible", () => {
    assert.equal(shouldNotify(req, [spec], true), false);
    assert.equal(shouldNotify(req, ["file:///work/proj/README.md"], true), true);
    assert.equal(shouldNotify(req, [], true), true);
  });
  test("never when disabled; always without a specUri", () => {
    assert.equal(shouldNotify(req, [], false), false);
    assert.equal(shouldNotify({ id: "x", summary: "s" }, [spec], true), true);
  });
  test("VS Code's encoded drive letter matches a server's plain one", () => {
    const win = { ...req, specUri: "file:///C:/proj/specs/a/spec.md" };
    assert.equal(shouldNotify(win, ["file:///c%3A/proj/specs/a/spec.md"], true), false);
    assert.equal(normalizeUri("file:///c%3A/a%20b/"), "file:///c:/a b");
  });
});

describe("PendingApprovals", () => {
  test("add, remove and reconcile with run status", () => {
    const list = new PendingApprovals();
    assert.equal(list.add({ id: "a", runId: "r1", summary: "A" }), true);
    assert.equal(list.add({ id: "a", runId: "r1", summary: "A again" }), false);
    list.add({ id: "b", runId: "r1", summary: "B" });
    list.add({ id: "c", runId: "r2", summary: "C" });
    list.syncRun("r1", { count: 1, ids: ["b"] });
    assert.deepEqual(list.list().map((r) => r.id), ["b", "c"]);
    list.syncRun("r1", { count: 3 });
    assert.equal(list.size, 2);
    list.syncRun("r1", { count: 0 });
    assert.deepEqual(list.list().map((r) => r.id), ["c"]);
    list.syncRun("r2", { count: 1 }, true);
    assert.equal(list.size, 0);
  });
});

describe("texts", () => {
  test("notification and picker", () => {
    const req = { id: "st_1", runId: "run_1", summary: "write src/a.py", specUri: spec };
    assert.equal(approvalMessage(req), "Harness: approval needed for write src/a.py · run run_1");
    assert.equal(
      approvalMessage({ id: "s", summary: "(write_file): write greet.txt" }),
      "Harness: approval needed (write_file): write greet.txt",
    );
    assert.deepEqual(approvalPickItem(req), {
      label: "write src/a.py",
      description: "run_1",
      detail: "/work/proj/specs/login/spec.md",
    });
  });
});
