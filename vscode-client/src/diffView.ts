/**
 * "Show diff" in VS Code: the proposed change in the native diff editor (before ↔ proposed) as
 * read-only `harness-diff:` documents, instead of the patch file generic LSP clients get.
 */

import * as vscode from "vscode";

import { DIFF_SCHEME, diffPaths, type DiffSides } from "./diffSides";

export class DiffDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? "";
  }

  async show(sides: DiffSides): Promise<void> {
    const paths = diffPaths(sides);
    this.texts.set(paths.before, sides.before);
    this.texts.set(paths.after, sides.after);
    const before = vscode.Uri.from({ scheme: DIFF_SCHEME, path: paths.before });
    const after = vscode.Uri.from({ scheme: DIFF_SCHEME, path: paths.after });
    this.changed.fire(before); // shown again after a re-ask: fresh contents
    this.changed.fire(after);
    await vscode.commands.executeCommand("vscode.diff", before, after, paths.title, { preview: true });
  }

  dispose(): void {
    this.changed.dispose();
    this.texts.clear();
  }
}
