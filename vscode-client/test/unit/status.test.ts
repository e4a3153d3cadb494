import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { formatStep, readPending, RunBoard, statusView } from "../../src/status";

describe("formatStep", () => {
  test("reads titles, numbers and {index,total,title}", () => {
    assert.equal(formatStep("implement"), "implement");
    assert.equal(formatStep(3), "3");
    assert.equal(formatStep({ index: 2, total: 5, title: "Write tests" }), "2/5 · Write tests");
    assert.equal(formatStep({ name: "verify" }), "verify");
    assert.equal(formatStep(null), "");
    assert.equal(formatStep("x".repeat(100)).length, 40);
  });
});

describe("readPending", () => {
  test("count or id list", () => {
    assert.deepEqual(readPending(2), { count: 2 });
    assert.deepEqual(readPending(0), { count: 0 });
    assert.deepEqual(readPending(["a", { id: "b" }]), { count: 2, ids: ["a", "b"] });
    assert.deepEqual(readPending(undefined), { count: 0 });
  });
});

describe("statusView", () => {
  test("idle", () => {
    const v = statusView("running", new RunBoard());
    assert.equal(v.text, "$(checklist) Harness");
    assert.equal(v.tone, "normal");
    assert.match(v.tooltip, /No active run/);
  });

  test("running step", () => {
    const board = new RunBoard();
    board.update({ runId: "run_1", state: "running", step: { index: 2, total: 4, title: "implement" }, pendingApprovals: 0 });
    const v = statusView("running", board);
    assert.equal(v.text, "$(sync~spin) Harness: step 2/4 · implement");
    assert.deepEqual(v.command, { command: "harness.showRun", arguments: ["run_1"] });
  });

  test("n approvals pending", () => {
    const board = new RunBoard();
    board.update({ runId: "run_1", state: "waiting_approval", step: "implement", pendingApprovals: 2 });
    const v = statusView("running", board);
    assert.equal(v.text, "$(bell-dot) Harness: 2 approvals · implement");
    assert.equal(v.tone, "warning");
    assert.deepEqual(v.command, { command: "harness.approve" });
    assert.match(v.tooltip, /run_1: waiting_approval — implement \(2 approvals pending\)/);
  });

  test("the server's 'waiting for approval: …' step is left to the tooltip", () => {
    const board = new RunBoard();
    board.update({ runId: "run_1", state: "waiting_approval", step: "waiting for approval: overwrite greet.txt", pendingApprovals: 1 });
    const v = statusView("running", board);
    assert.equal(v.text, "$(bell-dot) Harness: 1 approval");
    assert.match(v.tooltip, /overwrite greet\.txt/);
  });

  test("several runs and one approval", () => {
    const board = new RunBoard();
    board.update({ runId: "a", state: "running" });
    board.update({ runId: "b", state: "waiting_approval", pendingApprovals: ["x"] });
    assert.equal(statusView("running", board).text, "$(bell-dot) Harness: 1 approval · 2 runs");
  });

  test("a terminal state removes the run and is remembered", () => {
    const board = new RunBoard();
    board.update({ runId: "run_1", state: "running", step: "plan" });
    board.update({ runId: "run_1", state: "completed" });
    const v = statusView("running", board);
    assert.equal(v.text, "$(checklist) Harness");
    assert.match(v.tooltip, /Last run run_1: completed/);
  });

  test("server states", () => {
    assert.equal(statusView("notFound", new RunBoard()).command.command, "harness.showInstallHelp");
    assert.equal(statusView("notFound", new RunBoard()).tone, "error");
    assert.equal(statusView("stopped", new RunBoard()).command.command, "harness.restartServer");
    assert.equal(statusView("starting", new RunBoard()).text, "$(loading~spin) Harness");
  });

  test("approvals known from notifications count when the run status has none yet", () => {
    const v = statusView("running", new RunBoard(), 1);
    assert.equal(v.text, "$(bell-dot) Harness: 1 approval");
  });
});
