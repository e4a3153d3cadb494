/**
 * Runs as cancellable notifications (`window.withProgress`), fed by `harness/runStatus`.
 *
 * One notification per run: its message is the server's step ("execute: step 1/2 — …"), its bar
 * the server's percentage (completed plan steps / plan steps), Cancel runs `harness.cancelRun`.
 * While the run waits for an approval the progress toast closes, so the approval prompt is the
 * toast on screen with its buttons clickable (a progress toast is sticky, a prompt is not: left
 * open it would cover the prompt); it opens again, with the bar where it was, when the run goes
 * on. When the run ends a message says how, with the reason ("failed: acceptance tests failed:
 * 1 of 1 (…)", "cancelled: from the editor while waiting for approval: …"). The pure parts live
 * in runEnd.ts (unit-tested).
 */

import * as vscode from "vscode";

import { endMessage, increment, waitsForApproval } from "./runEnd";
import { formatStep, type RunStatusParams, TERMINAL_STATES } from "./status";

interface Toast {
  report: (value: { message?: string; increment?: number }) => void;
  done: () => void;
}

interface Live {
  shown: number; // the bar's position, kept while the toast is closed
  message: string;
  toast?: Toast;
}

export class RunNotifications {
  private readonly live = new Map<string, Live>();

  constructor(private readonly cancel: (runId: string) => Promise<unknown>) {}

  update(status: RunStatusParams & { outcome?: unknown; percentage?: unknown }): void {
    const ended = TERMINAL_STATES.has(status.state);
    let entry = this.live.get(status.runId);
    if (entry === undefined && !ended) {
      entry = { shown: 0, message: "" };
      this.live.set(status.runId, entry);
    }
    if (entry !== undefined) {
      const inc = increment(entry.shown, status.percentage);
      entry.shown += inc;
      entry.message = formatStep(status.step, 80) || status.state;
      if (ended || waitsForApproval(status)) {
        entry.toast?.done();
        entry.toast = undefined;
      } else if (entry.toast === undefined) {
        this.openToast(status.runId, entry);
      } else {
        entry.toast.report({ message: entry.message, increment: inc || undefined });
      }
    }
    if (ended) {
      this.live.delete(status.runId);
      const text = endMessage(status);
      if (status.state === "completed" || status.state === "cancelled") {
        void vscode.window.showInformationMessage(text);
      } else {
        void vscode.window.showWarningMessage(text);
      }
    }
  }

  private openToast(runId: string, entry: Live): void {
    let closed = false;
    const toast: Toast = { report: () => undefined, done: () => void (closed = true) };
    entry.toast = toast;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Harness: run ${runId}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => void this.cancel(runId));
        progress.report({ message: entry.message, increment: entry.shown || undefined });
        return new Promise<void>((resolve) => {
          toast.report = (value) => progress.report(value);
          toast.done = resolve;
          if (closed) {
            resolve();
          }
        });
      },
    );
  }

  dispose(): void {
    for (const entry of this.live.values()) {
      entry.toast?.done();
    }
    this.live.clear();
  }
}
