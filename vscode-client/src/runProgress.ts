/**
 * Runs as cancellable notifications (`window.withProgress`), fed by `harness/runStatus`.
 *
 * One notification per run: its message is the server's step ("execute: step 1/2 — …"), its bar
 * the server's percentage (completed plan steps / plan steps), Cancel runs `harness.cancelRun`.
 * When the run ends the notification closes and a message says how, with the reason
 * ("failed: acceptance tests failed: 1 of 1 (…)"). The pure parts live in runEnd.ts (unit-tested).
 */

import * as vscode from "vscode";

import { endMessage, increment } from "./runEnd";
import { formatStep, type RunStatusParams, TERMINAL_STATES } from "./status";

interface Live {
  report: (value: { message?: string; increment?: number }) => void;
  done: () => void;
  shown: number;
}

export class RunNotifications {
  private readonly live = new Map<string, Live>();

  constructor(private readonly cancel: (runId: string) => Promise<unknown>) {}

  update(status: RunStatusParams & { outcome?: unknown; percentage?: unknown }): void {
    const ended = TERMINAL_STATES.has(status.state);
    let entry = this.live.get(status.runId);
    if (entry === undefined && !ended) {
      entry = this.open(status.runId);
    }
    if (entry !== undefined) {
      const step = formatStep(status.step, 80);
      const inc = increment(entry.shown, status.percentage);
      entry.shown += inc;
      entry.report({ message: step || status.state, increment: inc || undefined });
    }
    if (ended) {
      entry?.done();
      this.live.delete(status.runId);
      const text = endMessage(status);
      if (status.state === "completed") {
        void vscode.window.showInformationMessage(text);
      } else if (status.state !== "cancelled") {
        void vscode.window.showWarningMessage(text);
      }
    }
  }

  private open(runId: string): Live {
    let done: () => void = () => undefined;
    const entry: Live = { report: () => undefined, done: () => done(), shown: 0 };
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Harness: run ${runId}`, cancellable: true },
      (progress, token) => {
        entry.report = (value) => progress.report(value);
        token.onCancellationRequested(() => void this.cancel(runId));
        return new Promise<void>((resolve) => {
          done = resolve;
        });
      },
    );
    this.live.set(runId, entry);
    return entry;
  }

  dispose(): void {
    for (const entry of this.live.values()) {
      entry.done();
    }
    this.live.clear();
  }
}
