/**
 * The language client's lifecycle: resolve the server command, start `harness-ls` on stdio,
 * keep its settings in sync, restart on demand. Start/stop/restart are queued so a burst of
 * settings changes never runs two servers at once.
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
  type StaticFeature,
  TransportKind,
} from "vscode-languageclient/node";

import { showDocument } from "./dashboardOpen";
import type { ShowDocumentResult } from "vscode-languageclient/node";
import { commandContextKeys, errorText, serverAlreadyToldUser } from "./commandArgs";
import { nodeProbes } from "./probes";
import { pythonInterpreter } from "./python";
import { ensureBundledServer, readBundle, type SetupResult } from "./bundledSetup";
import { isDefaultCommand, resolveServerCommand, type Resolution } from "./serverCommand";
import {
  configurationItem,
  configurationPayload,
  documentSelector,
  type HarnessSettings,
  narrowedPolicyMode,
  readSettings,
  SECTION,
  type ServerSettings,
  toServerSettings,
  USER_ONLY,
  userValue,
} from "./settings";
import type { ServerState } from "./status";

export const CLIENT_ID = "harness";
export const TOKEN_KEY = "harness.token";

export interface ServerHooks {
  onRunStatus(params: unknown): void;
  onApprovalRequested(params: unknown): void;
  onApprovalResolved(params: unknown): void;
  /** Fill in a missing argument for a server command (palette / menu use); undefined cancels. */
  prepareArguments(command: string, args: unknown[]): Promise<unknown[] | undefined>;
  /** Run a server command in the editor instead (true when done, e.g. Show diff's native view). */
  handleLocally(command: string, args: unknown[]): Promise<boolean>;
  /** Called after a server command succeeded, with the arguments it was sent. */
  afterCommand(command: string, args: unknown[], result: unknown): Promise<void>;
  onStateChange(state: ServerState): void;
  onNotFound(resolution: Extract<Resolution, { ok: false }>): void;
}

export class HarnessServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  state: ServerState = "starting";
  settings: HarnessSettings = readHarnessSettings();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly hooks: ServerHooks,
  ) {}

  get running(): boolean {
    return this.client !== undefined && this.client.state === State.Running;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /** Re-read settings and the token and send them with workspace/didChangeConfiguration. */
  async pushConfiguration(): Promise<void> {
    this.settings = readHarnessSettings();
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      return;
    }
    const payload = configurationPayload(await this.serverSettings());
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: payload });
    this.log.info("Sent settings to harness-ls (didChangeConfiguration).");
  }

  /** Send workspace/executeCommand; errors become a message naming what went wrong. */
  async executeCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      void vscode.window.showErrorMessage(`Harness: cannot run ${command}: the language server is not running.`, "Restart Server").then(
        (choice) => (choice ? this.restart() : undefined),
      );
      return undefined;
    }
    try {
      const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
      await this.hooks.afterCommand(command, args, result);
      return result;
    } catch (error) {
      const text = errorText(error);
      this.log.error(`${command} failed: ${text}`);
      if (!serverAlreadyToldUser(error)) {
        void vscode.window.showErrorMessage(`Harness: ${text}`);
      }
      return undefined;
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Commands the running server offers (executeCommandProvider), empty when it is not running. */
  get offeredCommands(): string[] {
    const provider = this.running ? this.client?.initializeResult?.capabilities.executeCommandProvider : undefined;
    return provider?.commands ?? [];
  }

  private setState(state: ServerState): void {
    this.state = state;
    void vscode.commands.executeCommand("setContext", "harness.serverRunning", state === "running");
    for (const [key, value] of Object.entries(commandContextKeys(this.offeredCommands))) {
      void vscode.commands.executeCommand("setContext", key, value);
    }
    this.hooks.onStateChange(state);
  }

  private async serverSettings(): Promise<ServerSettings> {
    const token = await this.context.secrets.get(TOKEN_KEY);
    return toServerSettings(this.settings, token);
  }

  private async doStart(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.setState("starting");
    this.settings = readHarnessSettings();
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file");
    const pythonCommand = await pythonInterpreter(folders[0]?.uri, this.log);
    const bundled = isDefaultCommand(this.settings.serverCommand) ? await this.bundledServer(pythonCommand) : undefined;
    const resolution: Resolution = bundled?.ok
      ? { ok: true, server: { command: bundled.command, args: [...bundled.args, ...this.settings.serverArgs], source: "bundled" }, tried: [] }
      : await resolveServerCommand(
          {
            configured: this.settings.serverCommand,
            args: this.settings.serverArgs,
            workspaceFolders: folders.map((f) => f.uri.fsPath),
            pythonCommand,
            env: process.env,
            platform: process.platform,
          },
          nodeProbes,
        );
    if (!resolution.ok && bundled !== undefined && !bundled.ok) {
      // the bundle is the way this extension is meant to run: say why it could not
      resolution.message = bundled.message;
      resolution.tried = [...bundled.tried, ...resolution.tried];
    }
    if (!resolution.ok) {
      this.log.error(resolution.message);
      this.setState("notFound");
      this.hooks.onNotFound(resolution);
      return;
    }
    const { server } = resolution;
    this.log.info(`Starting ${[server.command, ...server.args].join(" ")} (found via ${server.source})`);

    const serverOptions: ServerOptions = {
      command: server.command,
      args: server.args,
      transport: TransportKind.stdio,
      options: { cwd: folders[0]?.uri.fsPath, env: { ...process.env } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(this.settings.specGlobs),
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: configurationPayload(await this.serverSettings()),
      markdown: { isTrusted: false, supportHtml: false },
      middleware: {
        executeCommand: async (command, args) => {
          const prepared = await this.hooks.prepareArguments(command, args);
          if (prepared === undefined || (await this.hooks.handleLocally(command, prepared))) {
            return undefined;
          }
          return this.executeCommand(command, prepared);
        },
        window: {
          showDocument: async (params, next) =>
            showDocument(params, async () => (await next(params, new vscode.CancellationTokenSource().token)) as ShowDocumentResult),
        },
        workspace: {
          configuration: async (params, token, next) => {
            const ours = await this.serverSettings();
            const theirs: unknown = await next(params, token);
            const fallback: unknown[] = Array.isArray(theirs) ? (theirs as unknown[]) : [];
            return params.items.map((item, i): unknown => {
              const value = configurationItem(item.section, ours);
              return value !== undefined ? value : (fallback[i] ?? null);
            });
          },
        },
      },
    };

    const client = new LanguageClient(CLIENT_ID, "Harness", serverOptions, clientOptions);
    client.registerFeature(RUN_NOTIFICATIONS);
    client.onDidChangeState((event) => {
      if (this.client !== client) {
        return;
      }
      if (event.newState === State.Running) {
        this.setState("running");
      } else if (event.newState === State.Stopped) {
        this.setState("stopped");
      }
    });
    client.onNotification("harness/runStatus", (params: unknown) => this.hooks.onRunStatus(params));
    client.onNotification("harness/approvalRequested", (params: unknown) => this.hooks.onApprovalRequested(params));
    client.onNotification("harness/approvalResolved", (params: unknown) => this.hooks.onApprovalResolved(params));
    this.client = client;
    try {
      await client.start();
      this.setState("running");
      const info = client.initializeResult?.serverInfo;
      this.log.info(`harness-ls ${info?.version ?? ""} is running.`.replace("  ", " "));
    } catch (error) {
      this.log.error(`harness-ls failed to start: ${errorText(error)}`);
      this.setState("stopped");
      const choice = await vscode.window.showErrorMessage(
        `Harness: harness-ls failed to start (${errorText(error)}). See the Harness output for its error.`,
        "Show Output",
        "Restart Server",
      );
      if (choice === "Show Output") {
        this.log.show(true);
      } else if (choice === "Restart Server") {
        void this.restart();
      }
    }
  }

  /** The server bundled in the .vsix (installed on first start), or undefined without a bundle. */
  private async bundledServer(pythonCommand: string[] | undefined): Promise<SetupResult | undefined> {
    const bundle = await readBundle(this.context.extensionPath);
    if (bundle === undefined) {
      return undefined;
    }
    let result: SetupResult;
    try {
      result = await ensureBundledServer({
        bundle,
        storage: this.context.globalStorageUri.fsPath,
        pythonFromExtension: pythonCommand,
        platform: process.platform,
        log: this.log,
        withProgress: async (title, task) =>
          await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => task()),
      });
    } catch (error) {
      // the storage cannot be written (read-only home, disk full): say so, then try the others
      const where = this.context.globalStorageUri.fsPath;
      result = { ok: false, message: `could not set up the bundled harness-ls in ${where}: ${errorText(error)}`, tried: [`bundled harness-ls in ${where}`] };
    }
    if (!result.ok) {
      this.log.error(`Bundled server: ${result.message}`);
    } else if (result.fresh) {
      this.log.info(`Bundled server: installed ${bundle.manifest.requirement} with ${result.python}.`);
    }
    return result;
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      if (client.state !== State.Stopped) {
        await client.stop(5000);
      }
    } catch (error) {
      this.log.warn(`Stopping harness-ls: ${errorText(error)}`);
    }
    try {
      await client.dispose();
    } catch {
      // already disposed by stop()
    }
    this.setState("stopped");
  }
}

/**
 * Tells the server (`experimental.harnessRunNotifications`) that this client shows run ends
 * itself (runProgress.ts, with the reason): the server then sends no window/showMessage for
 * them, so a run ends with one message, not two.
 */
const RUN_NOTIFICATIONS: StaticFeature = {
  fillClientCapabilities: (capabilities) => {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, harnessRunNotifications: true };
  },
  initialize: () => undefined,
  getState: () => ({ kind: "static" }),
  clear: () => undefined,
};

export function readHarnessSettings(): HarnessSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  // A repository's own settings (.vscode/settings.json) never choose the server command and
  // may only narrow the policy mode (settings.ts).
  return readSettings((key) => {
    if (key === "policyMode") {
      return narrowedPolicyMode(config.inspect("policyMode"));
    }
    if ((USER_ONLY as readonly string[]).includes(key)) {
      return userValue(config.inspect(key));
    }
    return config.get(key);
  });
}
