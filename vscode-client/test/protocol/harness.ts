/**
 * Test helper: resolve harness-ls exactly as the extension does and run it on stdio with
 * vscode-jsonrpc, recording the notifications and server→client requests a test looks at.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

import {
  createMessageConnection,
  type MessageConnection,
  ProgressType,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-jsonrpc/node";

import { nodeProbes } from "../../src/probes";
import { resolveServerCommand, type ServerCommand } from "../../src/serverCommand";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..", "..");

/** The server command, or a reason why it cannot run here. */
export async function findServer(workspace: string): Promise<{ server?: ServerCommand; reason: string }> {
  const resolution = await resolveServerCommand(
    {
      configured: process.env.HARNESS_LS_COMMAND ?? "harness-ls",
      args: [],
      workspaceFolders: [workspace, REPO_ROOT],
      env: process.env,
      platform: process.platform,
    },
    nodeProbes,
  );
  if (!resolution.ok) {
    return { reason: `harness-ls not runnable here: ${resolution.message}` };
  }
  return { server: resolution.server, reason: "" };
}

export interface Session {
  conn: MessageConnection;
  notifications: { method: string; params: unknown }[];
  stderr: () => string;
  /** Resolves with the first recorded notification of `method` that satisfies `pred`. */
  waitFor<T>(method: string, pred: (params: T) => boolean, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export async function startSession(
  server: ServerCommand,
  workspace: string,
  capabilities: object,
  initializationOptions: object,
): Promise<Session> {
  const proc: ChildProcessWithoutNullStreams = spawn(server.command, server.args, { cwd: workspace, env: process.env });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const notifications: { method: string; params: unknown }[] = [];
  const waiters: (() => void)[] = [];
  const record = (method: string, params: unknown): void => {
    notifications.push({ method, params });
    waiters.splice(0).forEach((w) => w());
  };
  conn.onNotification((method: string, params: unknown) => record(method, params));
  conn.onRequest((method: string, params: unknown) => {
    // window/workDoneProgress/create, client/registerCapability, showDocument, refreshes ...
    if (method === "window/workDoneProgress/create") {
      // vscode-jsonrpc routes $/progress to per-token handlers, never to the catch-all handler.
      const token = (params as { token: string | number }).token;
      conn.onProgress(new ProgressType<unknown>(), token, (value) => record("$/progress", { token, value }));
      return null;
    }
    if (method === "window/showDocument") {
      return { success: true };
    }
    if (method === "workspace/configuration") {
      return [];
    }
    return null;
  });
  conn.listen();
  const uri = pathToFileURL(workspace).toString();
  await conn.sendRequest("initialize", {
    processId: process.pid,
    clientInfo: { name: "Visual Studio Code", version: "1.100.3" },
    rootUri: uri,
    workspaceFolders: [{ uri, name: path.basename(workspace) }],
    capabilities,
    initializationOptions,
  });
  await conn.sendNotification("initialized", {});

  const waitFor = <T>(method: string, pred: (params: T) => boolean, timeoutMs = 30000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no ${method} matching in ${timeoutMs} ms; got ${JSON.stringify(notifications.map((n) => n.method))}; stderr: ${stderr.slice(-800)}`));
      }, timeoutMs);
      const check = (): void => {
        const hit = notifications.find((n) => n.method === method && pred(n.params as T));
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit.params as T);
        } else {
          waiters.push(check);
        }
      };
      check();
    });

  const stop = async (): Promise<void> => {
    try {
      await Promise.race([conn.sendRequest("shutdown"), new Promise((r) => setTimeout(r, 5000))]);
      await conn.sendNotification("exit");
    } catch {
      // already gone
    }
    conn.dispose();
    if (proc.exitCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          proc.kill("SIGKILL");
          resolve(undefined);
        }, 5000);
        proc.on("exit", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  };
  return { conn, notifications, stderr: () => stderr, waitFor, stop };
}
