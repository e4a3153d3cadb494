/**
 * Entry point: wires the language client (server.ts) to VS Code's UI — commands, the status bar,
 * approval notifications, the token in SecretStorage. Decisions live in the pure modules.
 */
import * as vscode from "vscode";

import {
  approvalMessage,
  approvalPickItem,
  type ApprovalRequest,
  parseApprovalRequest,
  parseApprovalResolved,
  PendingApprovals,
  shouldNotify,
} from "./approvals";
import { argumentKind, hasUsableArgument, resultLocation, validateSpecName } from "./commandArgs";
import { DIFF_SCHEME, parseDiffSides } from "./diffSides";
import { DiffDocuments } from "./diffView";
import { HarnessServer, TOKEN_KEY } from "./server";
import { documentSelector, RESTART_KEYS, SECTION } from "./settings";
import { RunNotifications } from "./runProgress";
import { pendingOf, RunBoard, type RunStatusParams, TERMINAL_STATES, statusView } from "./status";

let server: HarnessServer | undefined;

export interface HarnessExtensionApi {
  readonly server: HarnessServer;
  readonly board: RunBoard;
  readonly approvals: PendingApprovals;
}

export function activate(context: vscode.ExtensionContext): HarnessExtensionApi {
  const log = vscode.window.createOutputChannel("Harness", { log: true });
  const board = new RunBoard();
  const runNotes = new RunNotifications((runId) => harness.executeCommand("harness.cancelRun", [runId]));
  context.subscriptions.push({ dispose: () => runNotes.dispose() });
  const approvals = new PendingApprovals();
  const diffs = new DiffDocuments();
  context.subscriptions.push(diffs, vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, diffs));
  const statusItem = vscode.window.createStatusBarItem("harness.status", vscode.StatusBarAlignment.Left, 50);
  statusItem.name = "Harness";
  context.subscriptions.push(log, statusItem);

  // The extension activates for any Markdown file, but the server only starts once the workspace
  // has a spec (or one is opened, or a Harness command runs): a README never triggers it.
  let wanted = false;
  const refresh = (): void => {
    const view = statusView(harness.state, board, approvals.size);
    statusItem.text = view.text;
    statusItem.tooltip = view.tooltip;
    statusItem.command = { title: "Harness", command: view.command.command, arguments: view.command.arguments };
    statusItem.backgroundColor =
      view.tone === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.tone === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    if (wanted) {
      statusItem.show();
    } else {
      statusItem.hide();
    }
    void vscode.commands.executeCommand("setContext", "harness.runActive", board.active().length > 0);
    void vscode.commands.executeCommand("setContext", "harness.approvalsPending", approvals.size > 0 || board.pendingTotal() > 0);
  };

  const openInstallHelp = async (): Promise<void> => {
    // vsce stores the README as readme.md; a development checkout has README.md.
    for (const name of ["readme.md", "README.md"]) {
      const readme = vscode.Uri.joinPath(context.extensionUri, name);
      try {
        await vscode.workspace.fs.stat(readme);
      } catch {
        continue;
      }
      await vscode.commands.executeCommand("markdown.showPreview", readme);
      return;
    }
    log.show(true);
  };

  const harness: HarnessServer = new HarnessServer(context, log, {
    onStateChange: (state) => {
      if (state !== "running") {
        board.clear();
        approvals.clear();
      }
      refresh();
    },
    onNotFound: (resolution) => {
      void vscode.window
        .showErrorMessage(`Harness: ${resolution.message}`, "Open Install Docs", "Open Settings", "Retry")
        .then(async (choice) => {
          if (choice === "Open Install Docs") {
            await openInstallHelp();
          } else if (choice === "Open Settings") {
            await vscode.commands.executeCommand("workbench.action.openSettings", "harness.server");
          } else if (choice === "Retry") {
            await harness.restart();
          }
        });
    },
    onRunStatus: (params) => {
      const status = params as RunStatusParams;
      if (status === null || typeof status !== "object" || typeof status.runId !== "string") {
        log.warn(`Ignoring harness/runStatus without a runId: ${JSON.stringify(params)}`);
        return;
      }
      board.update(status);
      runNotes.update(status);
      approvals.syncRun(status.runId, pendingOf(status), TERMINAL_STATES.has(status.state));
      refresh();
    },
    onApprovalResolved: (params) => {
      const resolved = parseApprovalResolved(params);
      if (resolved === undefined) {
        log.warn(`Ignoring harness/approvalResolved without an approval_id: ${JSON.stringify(params)}`);
        return;
      }
      approvals.remove(resolved.approval_id);
      refresh();
    },
    onApprovalRequested: (params) => {
      const request = parseApprovalRequest(params);
      if (request === undefined) {
        log.warn(`Ignoring harness/approvalRequested without an id: ${JSON.stringify(params)}`);
        return;
      }
      const isNew = approvals.add(request);
      refresh();
      if (isNew) {
        void notifyApproval(request);
      }
    },
    prepareArguments: (command, args) => prepareArguments(command, args),
    handleLocally: (command, args) => (command === "harness.showDiff" ? showDiff(args[0]) : Promise.resolve(false)),
    afterCommand: async (command, args, result) => {
      if (argumentKind(command) === "approvalId" && typeof args[0] === "string") {
        approvals.remove(args[0]);
        refresh();
      }
      if (command === "harness.newSpec") {
        // The server opens it with window/showDocument; open it here only if that did not happen.
        const location = resultLocation(result);
        if (location !== undefined) {
          const uri = location.uri !== undefined ? vscode.Uri.parse(location.uri) : vscode.Uri.file(location.path ?? "");
          const shown = vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === uri.toString());
          if (!shown) {
            await vscode.window.showTextDocument(uri);
          }
        }
      }
    },
  });
  server = harness;

  /**
   * Show diff in the native diff editor (before ↔ proposed, `harness-diff:` documents); false
   * when the server cannot give both sides, and its patch file (showDocument) is shown instead.
   */
  const showDiff = async (id: unknown): Promise<boolean> => {
    if (typeof id !== "string" || !harness.offeredCommands.includes("harness.diffContents")) {
      return false;
    }
    const sides = parseDiffSides(await harness.executeCommand("harness.diffContents", [id]));
    if (sides === undefined) {
      return false;
    }
    await diffs.show(sides);
    return true;
  };

  const notifyApproval = async (request: ApprovalRequest, force = false): Promise<void> => {
    const visible = vscode.window.visibleTextEditors.map((e) => e.document.uri.toString());
    if (!force && !shouldNotify(request, visible, harness.settings.notifyApprovals)) {
      return;
    }
    const buttons = ["Approve", "Deny", "Show Diff", ...(request.specUri !== undefined ? ["Open Spec"] : [])];
    const choice = await vscode.window.showWarningMessage(approvalMessage(request), ...buttons);
    if (choice === "Approve" || choice === "Deny") {
      await harness.executeCommand(choice === "Approve" ? "harness.approve" : "harness.deny", [request.id]);
    } else if (choice === "Show Diff") {
      if (!(await showDiff(request.id))) {
        await harness.executeCommand("harness.showDiff", [request.id]);
      }
      if (approvals.has(request.id)) {
        void notifyApproval(request, true); // a toast closes on any button: ask again
      }
    } else if (choice === "Open Spec" && request.specUri !== undefined) {
      await vscode.window.showTextDocument(vscode.Uri.parse(request.specUri));
    }
  };

  const pickSpec = async (): Promise<string | undefined> => {
    const selector = documentSelector(harness.settings.specGlobs);
    const active = vscode.window.activeTextEditor?.document;
    if (active !== undefined && vscode.languages.match(selector, active) > 0) {
      return active.uri.toString();
    }
    const pattern = `{${harness.settings.specGlobs.join(",")}}`;
    const files = await vscode.workspace.findFiles(pattern, "**/node_modules/**", 500);
    if (files.length === 0) {
      void vscode.window.showInformationMessage("Harness: no spec files in this workspace. Create one with “Harness: New Spec”.");
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
      { placeHolder: "Spec to run" },
    );
    return picked?.uri.toString();
  };

  const pickApproval = async (verb: string): Promise<string | undefined> => {
    const pending = approvals.list();
    if (pending.length === 0) {
      void vscode.window.showInformationMessage(
        "Harness: no pending approvals known to the editor. Pending steps also show as diagnostics with Approve / Deny quick fixes.",
      );
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      pending.map((req) => ({ ...approvalPickItem(req), id: req.id })),
      { placeHolder: `Step to ${verb}` },
    );
    return picked?.id;
  };

  const pickRun = async (purpose: string, allowLast: boolean): Promise<string | undefined> => {
    const runs = board.active();
    if (runs.length === 1) {
      return runs[0].runId;
    }
    if (runs.length === 0) {
      if (allowLast && board.lastOutcome !== undefined) {
        return board.lastOutcome.runId;
      }
      void vscode.window.showInformationMessage("Harness: no run is active.");
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.runId, description: `${r.state}${r.step ? ` — ${r.step}` : ""}`, id: r.runId })),
      { placeHolder: `Run to ${purpose}` },
    );
    return picked?.id;
  };

  /**
   * The workspace folder a new spec goes into (the server takes it as a second argument): the
   * active editor's folder, else nothing with one folder open (the server uses it), else the
   * user picks one; null when they cancel the pick.
   */
  const folderForNewSpec = async (): Promise<string | undefined | null> => {
    const active = vscode.window.activeTextEditor?.document.uri;
    const folder = active !== undefined ? vscode.workspace.getWorkspaceFolder(active) : undefined;
    if (folder !== undefined && folder.uri.scheme === "file") {
      return folder.uri.toString();
    }
    if ((vscode.workspace.workspaceFolders ?? []).length <= 1) {
      return undefined;
    }
    const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: "Folder for the new spec" });
    return picked === undefined ? null : picked.uri.toString();
  };

  const prepareArguments = async (command: string, rawArgs: unknown[]): Promise<unknown[] | undefined> => {
    const args = rawArgs.map((a) => (a instanceof vscode.Uri ? a.toString() : a));
    if (hasUsableArgument(command, args)) {
      return args;
    }
    let value: string | undefined;
    switch (argumentKind(command)) {
      case "specUri":
        value = await pickSpec();
        break;
      case "approvalId":
        value = await pickApproval(
          command === "harness.deny"
            ? "deny"
            : command === "harness.approveSimilar"
              ? "approve (and similar ones)"
              : command === "harness.showDiff"
                ? "show the change of"
                : "approve",
        );
        break;
      case "runId":
        value = await pickRun(command === "harness.cancelRun" ? "cancel" : "show", command === "harness.showRun");
        break;
      case "specName": {
        value = await vscode.window.showInputBox({
          prompt: "Name of the new spec (creates specs/<name>/spec.md)",
          placeHolder: "add-login",
          validateInput: validateSpecName,
        });
        value = value?.trim();
        if (value === undefined) {
          return undefined;
        }
        const folder = await folderForNewSpec();
        if (folder === null) {
          return undefined;
        }
        return folder === undefined ? [value] : [value, folder];
      }
      default:
        return args;
    }
    return value === undefined ? undefined : [value];
  };

  context.subscriptions.push(
    vscode.commands.registerCommand("harness.restartServer", async () => {
      if (!wanted) {
        startOnce("Harness: Restart Server");
        return;
      }
      log.info("Restarting harness-ls (command).");
      await harness.restart();
    }),
    vscode.commands.registerCommand("harness.showOutput", () => log.show(true)),
    vscode.commands.registerCommand("harness.showInstallHelp", openInstallHelp),
    vscode.commands.registerCommand("harness.setToken", async () => {
      const value = await vscode.window.showInputBox({
        title: "Harness: Set Token",
        prompt: "Token for the sidecar / agentd API (HARNESS_AUTH_TOKEN). Stored in VS Code's secret storage, not in settings. Leave empty to remove it.",
        password: true,
        ignoreFocusOut: true,
      });
      if (value === undefined) {
        return;
      }
      if (value.trim() === "") {
        await context.secrets.delete(TOKEN_KEY);
        void vscode.window.showInformationMessage("Harness: token removed.");
      } else {
        await context.secrets.store(TOKEN_KEY, value.trim());
        void vscode.window.showInformationMessage("Harness: token stored in secret storage.");
      }
    }),
    context.secrets.onDidChange(async (event) => {
      if (event.key === TOKEN_KEY) {
        await harness.pushConfiguration();
      }
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration(SECTION)) {
        return;
      }
      if (!wanted) {
        return;
      }
      if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        log.info("Server settings changed; restarting harness-ls.");
        await harness.restart();
      } else {
        await harness.pushConfiguration();
      }
    }),
    { dispose: () => void harness.dispose() },
  );

  const startOnce = (reason: string): void => {
    if (wanted) {
      return;
    }
    wanted = true;
    log.info(`Starting harness-ls: ${reason}.`);
    refresh();
    void harness.start();
  };
  const isSpec = (doc: vscode.TextDocument): boolean =>
    vscode.languages.match(documentSelector(harness.settings.specGlobs), doc) > 0;
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (!wanted && isSpec(doc)) {
        startOnce(`${vscode.workspace.asRelativePath(doc.uri)} is a spec`);
      }
    }),
  );
  const openSpec = vscode.workspace.textDocuments.find(isSpec);
  if (openSpec !== undefined) {
    startOnce(`${vscode.workspace.asRelativePath(openSpec.uri)} is a spec`);
  } else {
    void vscode.workspace
      .findFiles(`{${harness.settings.specGlobs.join(",")}}`, "**/node_modules/**", 1)
      .then((found) => {
        if (found.length > 0) {
          startOnce(`the workspace has specs (${vscode.workspace.asRelativePath(found[0])})`);
        }
      });
  }
  refresh();
  return { server: harness, board, approvals };
}

export async function deactivate(): Promise<void> {
  if (server !== undefined) {
    await server.dispose();
    server = undefined;
  }
}
