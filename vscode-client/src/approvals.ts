/**
 * Pending approvals the client knows of, from `harness/approvalRequested` notifications, pruned
 * by `harness/approvalResolved`, by `harness/runStatus` (its pendingApprovalIds) and by answers.
 * Used for the Approve/Deny pickers in the palette and for the "spec not visible → notify"
 * decision. The wire types come from specs-schema/approval-protocol.schema.json
 * (approvalProtocol.ts, generated); nothing here parses rendered text. Pure.
 */
import type { ApprovalRequested, ApprovalResolved, Decision } from "./approvalProtocol";

export interface ApprovalRequest {
  id: string;
  runId?: string;
  summary: string;
  specUri?: string;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * Validate a `harness/approvalRequested` payload; undefined when it has no usable id. Reads the
 * schema's names first (approval_id, run_id, spec_uri), then the older id / runId / specUri.
 */
export function parseApprovalRequest(params: unknown): ApprovalRequest | undefined {
  if (params === null || typeof params !== "object") {
    return undefined;
  }
  const p = params as Partial<Record<keyof ApprovalRequested, unknown>>;
  const id = text(p.approval_id) ?? text(p.id);
  if (id === undefined) {
    return undefined;
  }
  const runId = text(p.run_id) ?? text(p.runId);
  const specUri = text(p.spec_uri) ?? text(p.specUri);
  const tool = text(p.tool);
  const title = text(p.title) ?? text(p.summary);
  const summary = tool !== undefined && title !== undefined ? `(${tool}): ${title}` : (title ?? `approval ${id}`);
  return { id, runId, summary, specUri };
}

const DECISIONS: readonly Decision[] = ["approve", "deny", "cancelled"];

/** Validate a `harness/approvalResolved` payload; undefined without an approval_id or decision. */
export function parseApprovalResolved(params: unknown): Pick<ApprovalResolved, "approval_id" | "run_id" | "decision"> | undefined {
  if (params === null || typeof params !== "object") {
    return undefined;
  }
  const p = params as Partial<Record<keyof ApprovalResolved, unknown>>;
  const id = text(p.approval_id);
  const decision = DECISIONS.find((d) => d === p.decision);
  if (id === undefined || decision === undefined) {
    return undefined;
  }
  return { approval_id: id, run_id: text(p.run_id) ?? null, decision };
}

export class PendingApprovals {
  private readonly items = new Map<string, ApprovalRequest>();

  add(request: ApprovalRequest): boolean {
    const isNew = !this.items.has(request.id);
    this.items.set(request.id, request);
    return isNew;
  }

  remove(id: string): void {
    this.items.delete(id);
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  /**
   * Reconcile with a run's status: an id list is authoritative; a count of 0 (or a finished run)
   * drops all of the run's approvals; a positive count cannot say which, so nothing is dropped.
   */
  syncRun(runId: string, pending: { count: number; ids?: string[] }, finished = false): void {
    for (const [id, req] of this.items) {
      if (req.runId !== runId) {
        continue;
      }
      if (finished || pending.count === 0 || (pending.ids !== undefined && !pending.ids.includes(id))) {
        this.items.delete(id);
      }
    }
  }

  clear(): void {
    this.items.clear();
  }

  list(): ApprovalRequest[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }
}

/**
 * Canonical form of a file URI for comparisons: VS Code writes `file:///c%3A/x`, a Python server
 * `file:///C:/x`; percent-encoding and drive-letter case must not make them differ.
 */
export function normalizeUri(uri: string): string {
  let out: string;
  try {
    out = decodeURIComponent(uri);
  } catch {
    out = uri;
  }
  out = out.replace(/^file:\/\/\/([A-Za-z]):/, (_m, drive: string) => `file:///${drive.toLowerCase()}:`);
  return out.replace(/\/+$/, "");
}

export function sameUri(a: string, b: string): boolean {
  return normalizeUri(a) === normalizeUri(b);
}

/**
 * A notification is shown when enabled and the user cannot see the spec (its diagnostic and
 * code actions are then out of sight). Without a specUri we cannot tell, so we notify.
 */
export function shouldNotify(request: ApprovalRequest, visibleUris: string[], enabled: boolean): boolean {
  if (!enabled) {
    return false;
  }
  if (request.specUri === undefined) {
    return true;
  }
  const spec = request.specUri;
  return !visibleUris.some((uri) => sameUri(uri, spec));
}

/** Text of the notification: "(tool): title" as parseApprovalRequest composed it, or a bare title. */
export function approvalMessage(request: ApprovalRequest): string {
  const what = request.summary;
  const run = request.runId ? ` · run ${request.runId}` : "";
  return `Harness: approval needed ${what.startsWith("(") ? "" : "for "}${what}${run}`;
}

/** Label/description/detail of a quick pick entry. */
export function approvalPickItem(request: ApprovalRequest): { label: string; description: string; detail?: string } {
  const spec = request.specUri ? normalizeUri(request.specUri).replace(/^file:\/\//, "") : undefined;
  return {
    label: request.summary,
    description: request.runId ?? "",
    detail: spec,
  };
}
