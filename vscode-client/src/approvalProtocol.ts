// Generated from specs-schema/approval-protocol.schema.json by
// vscode-client/scripts/gen_approval_types.py: do not edit by hand.

/** Params of the `harness/approvalRequested` notification: an approval is pending. */
export interface ApprovalRequested {
  /** The id every answer uses (harness.approve / harness.deny arguments). */
  approval_id: string;
  /** Alias of approval_id for a run's step (absent for a session's tool call). */
  step_id?: string;
  /** The run that asks; null for a session. */
  run_id: string | null;
  /** The session that asks; null for a run. */
  session_id?: string | null;
  /** The gated tool, e.g. write_file or shell. */
  tool: string;
  /** One line saying what is asked, safe to display (the approval view's title). */
  title: string;
  /** The tool's preview summary (e.g. `write greet.txt`), safe to display. */
  summary: string;
  /** file:// uri of the spec whose step asks, when known. */
  spec_uri?: string | null;
  /** Older name of approval_id. */
  id: string;
  /** Older name of run_id. */
  runId?: string | null;
  /** Older name of spec_uri. */
  specUri?: string | null;
}

/** Params of the `harness/approvalResolved` notification: an approval was answered (anywhere: editor, HTTP, CLI) or cancelled. */
export interface ApprovalResolved {
  approval_id: string;
  /** Alias of approval_id for a run's step. */
  step_id?: string;
  run_id: string | null;
  session_id?: string | null;
  tool: string;
  title: string;
  summary: string;
  decision: Decision;
  /** Where it was answered: editor, http, cli, ... */
  surface?: string | null;
}

/** How an approval ended. */
export type Decision = "approve" | "deny" | "cancelled";

/** `data` of the Approve / Deny / Approve similar / Show diff code actions; their command's only argument is approval_id. */
export interface ApprovalActionData {
  approval_id: string;
  run_id: string | null;
  /** Alias of approval_id for a run's step. */
  step_id?: string;
}

/** Arguments of harness.approve, harness.deny, harness.approveSimilar, harness.showDiff and harness.diffContents. */
export type ApprovalCommandArguments = [string];

/** The approval part of the `harness/runStatus` notification (its other fields are documented in docs/editors/other.md). */
export interface RunStatusApprovals {
  runId: string;
  /** How many approvals of this run are pending (len of pendingApprovalIds). */
  pendingApprovals: number;
  /** The ids of this run's pending approvals: any other id of the run is no longer pending. */
  pendingApprovalIds: string[];
}
