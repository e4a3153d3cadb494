import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { diffPaths, parseDiffSides } from "../../src/diffSides";
import { waitsForApproval } from "../../src/runEnd";

describe("parseDiffSides", () => {
  test("takes the server's answer, refuses anything else", () => {
    const sides = { id: "s1", path: "src/a.py", isNew: false, before: "a\n", after: "b\n" };
    assert.deepEqual(parseDiffSides(sides), sides);
    assert.equal(parseDiffSides(null), undefined); // only the patch can be shown
    assert.equal(parseDiffSides({ ...sides, after: 3 }), undefined);
    assert.equal(parseDiffSides({ ...sides, id: "" }), undefined);
    assert.equal(parseDiffSides({ ...sides, isNew: "yes" })?.isNew, false);
  });
});

describe("diffPaths", () => {
  test("keeps the file name last so the editor picks its language", () => {
    const p = diffPaths({ id: "step 1", path: "src/a.py", isNew: false, before: "", after: "" });
    assert.equal(p.before, "/step%201/before/src/a.py");
    assert.equal(p.after, "/step%201/proposed/src/a.py");
    assert.equal(p.title, "a.py ↔ proposed by Harness");
  });
  test("a new file says so; dot segments never climb", () => {
    const p = diffPaths({ id: "s", path: "../x/./new.txt", isNew: true, before: "", after: "" });
    assert.equal(p.after, "/s/proposed/x/new.txt");
    assert.equal(p.title, "new.txt (new file) ↔ proposed by Harness");
  });
});

describe("waitsForApproval", () => {
  test("the progress toast steps aside while an approval waits", () => {
    assert.equal(waitsForApproval({ runId: "r", state: "waiting_approval" }), true);
    assert.equal(waitsForApproval({ runId: "r", state: "running", pendingApprovals: 1 }), true);
    assert.equal(waitsForApproval({ runId: "r", state: "running", pendingApprovals: 0 }), false);
  });
});
