/**
 * Runs as the status bar sees them, built from `harness/runStatus` notifications.
 *
 * The server's payload is `{runId, specUri, state, step, pendingApprovals}`; `step` and
 * `pendingApprovals` are read liberally (a title, a number, `{index, total, title}`; a count or a
 * list) so a richer server payload never breaks the status bar. Pure, unit-tested.
 */
import type { RunStatusApprovals } from "./approvalProtocol";

export const TERMINAL_STATES = new Set(["completed", "failed", "cancelled", "interrupted"]);

export type ServerState = "starting" | "running" | "stopped" | "notFound";

export interface RunStatusParams {
  runId: string;
  specUri?: string;
  state: string;
  step?: unknown;
  pendingApprovals?: unknown;
  /** The run's pending approval ids (specs-schema/approval-protocol.schema.json). */
  pendingApprovalIds?: RunStatusApprovals["pendingApprovalIds"];
}

export interface RunEntry {
  runId: string;
  specUri?: string;
  state: string;
  step: string;
  pending: number;
  pendingIds?: string[];
}

export interface StatusCommand {
  command: string;
  arguments?: unknown[];
}

export interface StatusView {
  text: string;
  tooltip: string;
  command: StatusCommand;
  /** "warning" when something waits for the user, "error" when the server is missing. */
  tone: "normal" | "warning" | "error";
}

const MAX_STEP = 40;

function clip(text: string, max = MAX_STEP): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** "2/5 · Write tests", "Write tests", "3" or "" from whatever the server sent. */
export function formatStep(step: unknown, max = MAX_STEP): string {
  if (step === undefined || step === null) {
    return "";
  }
  if (typeof step === "string") {
    return clip(step.trim(), max);
  }
  if (typeof step === "number") {
    return String(step);
  }
  if (typeof step === "object") {
    const s = step as Record<string, unknown>;
    const title = [s.title, s.name, s.summary, s.id].find((v) => typeof v === "string" && v !== "");
    const index = typeof s.index === "number" ? s.index : undefined;
    const total = typeof s.total === "number" ? s.total : undefined;
    const position = index !== undefined ? (total !== undefined ? `${index}/${total}` : `${index}`) : "";
    const parts = [position, typeof title === "string" ? clip(title, max) : ""].filter((p) => p !== "");
    return parts.join(" · ");
  }
  return "";
}

/** A count, or the ids when the server sends a list (strings or objects with `id`). */
export function readPending(value: unknown): { count: number; ids?: string[] } {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    return { count: Math.floor(value) };
  }
  if (Array.isArray(value)) {
    const ids = value
      .map((v) => (typeof v === "string" ? v : typeof v === "object" && v !== null ? (v as { id?: unknown }).id : undefined))
      .filter((v): v is string => typeof v === "string");
    return { count: value.length, ids };
  }
  return { count: 0 };
}

/**
 * The run's pending approvals: its `pendingApprovalIds` (the schema's, authoritative) when the
 * server sends them, else whatever `pendingApprovals` holds (an older server's count).
 */
export function pendingOf(params: Pick<RunStatusParams, "pendingApprovals" | "pendingApprovalIds">): {
  count: number;
  ids?: string[];
} {
  const ids: unknown = params.pendingApprovalIds;
  return Array.isArray(ids) ? readPending(ids) : readPending(params.pendingApprovals);
}

/** Live runs keyed by id; a terminal state removes the run and is remembered as the last outcome. */
export class RunBoard {
  private readonly runs = new Map<string, RunEntry>();
  lastOutcome: { runId: string; state: string } | undefined;

  update(params: RunStatusParams): RunEntry | undefined {
    if (typeof params.runId !== "string" || params.runId === "") {
      return undefined;
    }
    const state = typeof params.state === "string" ? params.state : "running";
    if (TERMINAL_STATES.has(state)) {
      this.runs.delete(params.runId);
      this.lastOutcome = { runId: params.runId, state };
      return undefined;
    }
    const pending = pendingOf(params);
    const entry: RunEntry = {
      runId: params.runId,
      specUri: params.specUri ?? this.runs.get(params.runId)?.specUri,
      state,
      step: formatStep(params.step, 300), // clipped for the status bar text, whole in the tooltip
      pending: pending.count,
      pendingIds: pending.ids,
    };
    this.runs.set(params.runId, entry);
    return entry;
  }

  clear(): void {
    this.runs.clear();
  }

  active(): RunEntry[] {
    return [...this.runs.values()];
  }

  pendingTotal(): number {
    return this.active().reduce((sum, run) => sum + run.pending, 0);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What the status bar item shows for the server state and the runs on the board. */
export function statusView(server: ServerState, board: RunBoard, extraPending = 0): StatusView {
  if (server === "notFound") {
    return {
      text: "$(error) Harness: not installed",
      tooltip: "harness-ls was not found. Click for install help.",
      command: { command: "harness.showInstallHelp" },
      tone: "error",
    };
  }
  if (server === "stopped") {
    return {
      text: "$(debug-disconnect) Harness: stopped",
      tooltip: "The harness-ls language server is not running. Click to restart it.",
      command: { command: "harness.restartServer" },
      tone: "error",
    };
  }
  if (server === "starting") {
    return {
      text: "$(loading~spin) Harness",
      tooltip: "Starting harness-ls…",
      command: { command: "harness.showOutput" },
      tone: "normal",
    };
  }
  const runs = board.active();
  const pending = Math.max(board.pendingTotal(), extraPending);
  if (runs.length === 0 && pending === 0) {
    const last = board.lastOutcome ? ` Last run ${board.lastOutcome.runId}: ${board.lastOutcome.state}.` : "";
    return {
      text: "$(checklist) Harness",
      tooltip: `harness-ls is running. No active run.${last}`,
      command: { command: "harness.showOutput" },
      tone: "normal",
    };
  }
  const approvals = pending > 0 ? plural(pending, "approval") : "";
  let progress = "";
  if (runs.length === 1) {
    const run = runs[0];
    if (pending > 0 && /^waiting for approval/i.test(run.step)) {
      progress = ""; // the approval count says it all; the tooltip has the step
    } else if (run.step === "") {
      progress = run.state;
    } else {
      progress = /^\d/.test(run.step) ? `step ${clip(run.step)}` : clip(run.step);
    }
  } else if (runs.length > 1) {
    progress = plural(runs.length, "run");
  }
  const icon = pending > 0 ? "$(bell-dot)" : "$(sync~spin)";
  const text = `${icon} Harness: ${[approvals, progress].filter((p) => p !== "").join(" · ")}`;
  const tooltip = runs
    .map((r) => `${r.runId}: ${r.state}${r.step ? ` — ${r.step}` : ""}${r.pending ? ` (${plural(r.pending, "approval")} pending)` : ""}`)
    .join("\n");
  const command: StatusCommand =
    pending > 0
      ? { command: "harness.approve" }
      : runs.length === 1
        ? { command: "harness.showRun", arguments: [runs[0].runId] }
        : { command: "harness.showOutput" };
  return {
    text,
    tooltip: tooltip !== "" ? tooltip : `${plural(pending, "approval")} pending`,
    command,
    tone: pending > 0 ? "warning" : "normal",
  };
}
