import assert from "node:assert/strict";
import { describe, test } from "node:test";

import type {
  ApprovalActionData,
  ApprovalCommandArguments,
  ApprovalRequested,
  ApprovalResolved,
  RunStatusApprovals,
} from "../../src/approvalProtocol";
import { parseApprovalRequest, parseApprovalResolved, PendingApprovals } from "../../src/approvals";
import { pendingOf, RunBoard } from "../../src/status";

// Payloads typed by the generated schema types: a field the schema renames breaks this file.
const spec = "file:///work/proj/specs/greet/spec.md";
const requested: ApprovalRequested = {
  approval_id: "st_1",
  step_id: "st_1",
  run_id: "run_1",
  session_id: null,
  tool: "write_file",
  title: "write greet.txt (+1 −1)",
  summary: "write greet.txt",
  spec_uri: spec,
  id: "st_1",
  runId: "run_1",
  specUri: spec,
};
const resolved: ApprovalResolved = {
  approval_id: "st_1",
  step_id: "st_1",
  run_id: "run_1",
  session_id: null,
  tool: "write_file",
  title: "write greet.txt (+1 −1)",
  summary: "write greet.txt",
  decision: "deny",
  surface: "http",
};

describe("approval protocol (specs-schema/approval-protocol.schema.json)", () => {
  test("a requested approval is read by its ids and fields, not its rendered text", () => {
    assert.deepEqual(parseApprovalRequest(requested), {
      id: "st_1",
      runId: "run_1",
      summary: "(write_file): write greet.txt (+1 −1)",
      specUri: spec,
    });
    // the schema's names win over the older ones
    assert.equal(parseApprovalRequest({ ...requested, id: "old" })?.id, "st_1");
  });

  test("a resolution anywhere removes the approval", () => {
    const pending = new PendingApprovals();
    pending.add(parseApprovalRequest(requested)!);
    const done = parseApprovalResolved(resolved);
    assert.deepEqual(done, { approval_id: "st_1", run_id: "run_1", decision: "deny" });
    pending.remove(done.approval_id);
    assert.equal(pending.size, 0);
    assert.equal(parseApprovalResolved({ ...resolved, decision: "maybe" }), undefined);
    assert.equal(parseApprovalResolved({ decision: "approve" }), undefined);
  });

  test("runStatus' pendingApprovalIds say which approvals are still pending", () => {
    const pending = new PendingApprovals();
    pending.add(parseApprovalRequest(requested)!);
    pending.add(parseApprovalRequest({ ...requested, approval_id: "st_2", id: "st_2" })!);
    const status: RunStatusApprovals = { runId: "run_1", pendingApprovals: 1, pendingApprovalIds: ["st_2"] };
    assert.deepEqual(pendingOf(status), { count: 1, ids: ["st_2"] });
    pending.syncRun(status.runId, pendingOf(status));
    assert.deepEqual(
      pending.list().map((r) => r.id),
      ["st_2"],
    );
    const board = new RunBoard();
    board.update({ ...status, state: "waiting_approval" });
    assert.deepEqual(board.active()[0].pendingIds, ["st_2"]);
    // an older server's count alone still counts
    assert.deepEqual(pendingOf({ pendingApprovals: 2 }), { count: 2 });
  });

  test("code actions carry the id as data and as the command's only argument", () => {
    const data: ApprovalActionData = { approval_id: "st_1", run_id: "run_1", step_id: "st_1" };
    const args: ApprovalCommandArguments = [data.approval_id];
    assert.deepEqual(args, ["st_1"]);
  });
});
