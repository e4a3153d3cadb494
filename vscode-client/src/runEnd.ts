/** Pure helpers of the run notifications (runProgress.ts); no vscode import, unit-tested. */

import { pendingOf, type RunStatusParams } from "./status";

/** The line shown when a run ends: the server's outcome when it sent one, else the state. */
export function endMessage(status: RunStatusParams & { outcome?: unknown }): string {
  const outcome = typeof status.outcome === "string" && status.outcome ? status.outcome : status.state;
  return `Harness: run ${status.runId} ${outcome}`;
}

/** How far the bar moves: VS Code's progress takes increments, the server sends totals. */
export function increment(previous: number, percentage: unknown): number {
  if (typeof percentage !== "number" || !Number.isFinite(percentage)) {
    return 0;
  }
  return Math.max(0, Math.min(100, percentage) - previous);
}

/**
 * Whether the run's progress toast should be out of the way: while the run waits for an
 * approval the approval prompt must be the toast on screen. VS Code keeps a progress toast
 * (sticky) but hides a message toast after ~18 s, so a progress toast would outlive and cover
 * the Approve / Deny buttons; the progress stays in the status bar meanwhile.
 */
export function waitsForApproval(status: RunStatusParams): boolean {
  return status.state === "waiting_approval" || pendingOf(status).count > 0;
}
