/**
 * Protocol test against the real `harness-ls`: resolved and started exactly as the extension's
 * launcher does (serverCommand.ts + the settings mapping as initializationOptions), driven over
 * stdio with vscode-jsonrpc — the JSON-RPC layer vscode-languageclient itself uses — with VS Code's
 * client capabilities (pull diagnostics). Skips with a reason when harness-ls is not runnable.
 *
 * HARNESS_LS_COMMAND overrides the server command (like the `harness.server.command` setting).
 * In CI (CI=true) a server that cannot be found or started is a failure, not a skip.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";

import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";

import { SERVER_COMMANDS } from "../../src/commandArgs";
import { nodeProbes } from "../../src/probes";
import { resolveServerCommand, type ServerCommand } from "../../src/serverCommand";
import { configurationPayload, readSettings, toServerSettings } from "../../src/settings";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..", "..");
const BROKEN_SPEC = "# Goals\n\nShip the login page.\n\n# Constraints / nuances\n\n- keep it small\n\n# Acceptance tests\n\n- `pytest -q`\n";

interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  code?: string | number;
  source?: string;
  severity?: number;
}

interface CodeAction {
  title: string;
  kind?: string;
  isPreferred?: boolean;
  diagnostics?: Diagnostic[];
  edit?: { changes?: Record<string, { range: Diagnostic["range"]; newText: string }[]>; documentChanges?: unknown[] };
}

/** VS Code 1.90's relevant client capabilities (abridged): pull diagnostics, code action literals. */
const CLIENT_CAPABILITIES = {
  general: { positionEncodings: ["utf-16"] },
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    executeCommand: { dynamicRegistration: true },
    workspaceFolders: true,
    diagnostics: { refreshSupport: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: true, didSave: true },
    publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true, dataSupport: true },
    diagnostic: { dynamicRegistration: true, relatedDocumentSupport: false },
    codeAction: {
      dynamicRegistration: true,
      isPreferredSupport: true,
      dataSupport: true,
      resolveSupport: { properties: ["edit"] },
      codeActionLiteralSupport: {
        codeActionKind: { valueSet: ["", "quickfix", "refactor", "source", "source.fixAll", "source.organizeImports"] },
      },
    },
    codeLens: { dynamicRegistration: true },
    completion: { completionItem: { snippetSupport: true } },
    hover: { contentFormat: ["markdown", "plaintext"] },
  },
  window: { workDoneProgress: true, showMessage: {}, showDocument: { support: true } },
};

describe("harness-ls over stdio, launched like the extension", () => {
  let server: ServerCommand | undefined;
  let skipReason = "";
  let proc: ChildProcessWithoutNullStreams | undefined;
  let conn: MessageConnection | undefined;
  let workspace = "";
  let stderr = "";
  const shown: string[] = [];

  before(async () => {
    workspace = await mkdtemp(path.join(tmpdir(), "harness-proto-"));
    await mkdir(path.join(workspace, "specs", "login"), { recursive: true });
    await writeFile(path.join(workspace, "specs", "login", "spec.md"), BROKEN_SPEC);
    const resolution = await resolveServerCommand(
      {
        configured: process.env.HARNESS_LS_COMMAND ?? "harness-ls",
        args: [],
        // the user's workspace first, then this repository (its .venv holds the dev install)
        workspaceFolders: [workspace, REPO_ROOT],
        env: process.env,
        platform: process.platform,
      },
      nodeProbes,
    );
    if (!resolution.ok) {
      skipReason = `harness-ls not runnable here: ${resolution.message}`;
      return;
    }
    server = resolution.server;
    const version = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(server!.command, [...server!.args, "--version"]);
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (out += d.toString()));
      p.on("error", (e) => resolve({ code: -1, out: String(e) }));
      p.on("close", (code) => resolve({ code, out }));
    });
    if (version.code !== 0 || !/harness-ls/.test(version.out)) {
      skipReason = `harness-ls --version failed (${version.code}): ${version.out.trim().slice(0, 300)}`;
      server = undefined;
    }
  });

  after(async () => {
    if (conn !== undefined) {
      try {
        await Promise.race([conn.sendRequest("shutdown"), new Promise((r) => setTimeout(r, 3000))]);
        await conn.sendNotification("exit");
      } catch {
        // the process may be gone already
      }
      conn.dispose();
    }
    if (proc !== undefined && proc.exitCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          proc?.kill("SIGKILL");
          resolve(undefined);
        }, 3000);
        proc?.on("exit", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    await rm(workspace, { recursive: true, force: true });
  });

  test("initialize with the extension's initializationOptions", async (t) => {
    if (server === undefined) {
      if (process.env.CI === "true") {
        assert.fail(`${skipReason} (in CI the protocol test must run: set HARNESS_LS_COMMAND or run make setup first)`);
      }
      t.skip(skipReason);
      return;
    }
    proc = spawn(server.command, server.args, { cwd: workspace, env: process.env });
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    conn.onNotification("window/showMessage", (p: { message: string }) => shown.push(p.message));
    conn.onNotification("window/logMessage", () => undefined);
    conn.onRequest("client/registerCapability", () => null);
    conn.onRequest("window/workDoneProgress/create", () => null);
    conn.onRequest("workspace/configuration", (p: { items: unknown[] }) => p.items.map(() => null));
    conn.listen();

    const settings = readSettings(() => undefined);
    const initializationOptions = configurationPayload(toServerSettings(settings, "test-token"));
    const started = Date.now();
    const result = await conn.sendRequest<{ capabilities: Record<string, unknown>; serverInfo?: { name: string; version?: string } }>(
      "initialize",
      {
        processId: process.pid,
        clientInfo: { name: "Visual Studio Code", version: "1.100.3" },
        rootUri: pathToFileURL(workspace).toString(),
        workspaceFolders: [{ uri: pathToFileURL(workspace).toString(), name: "ws" }],
        capabilities: CLIENT_CAPABILITIES,
        initializationOptions,
        trace: "off",
      },
    );
    t.diagnostic(`initialize took ${Date.now() - started} ms (spawn included); server ${JSON.stringify(result.serverInfo)}`);
    await conn.sendNotification("initialized", {});
    assert.equal(result.serverInfo?.name, "harness-ls");
    assert.ok(result.capabilities.diagnosticProvider, "pull diagnostics (what VS Code uses) must be offered");
    assert.ok(result.capabilities.codeActionProvider, "code actions must be offered");
    const commands = (result.capabilities.executeCommandProvider as { commands?: string[] } | undefined)?.commands ?? [];
    t.diagnostic(`server commands: ${commands.join(", ") || "(none yet)"}`);
    // Every command the extension's menus and pickers know must exist on the server.
    assert.deepEqual(
      Object.keys(SERVER_COMMANDS).filter((c) => !commands.includes(c)),
      [],
      `server does not offer: ${JSON.stringify(commands)}`,
    );
    assert.ok(result.capabilities.codeLensProvider, "code lenses (Run spec) must be offered");
  });

  test("a broken spec gets diagnostics and a quick fix", async (t) => {
    if (server === undefined || conn === undefined) {
      t.skip(skipReason || "server did not initialize");
      return;
    }
    const uri = pathToFileURL(path.join(workspace, "specs", "login", "spec.md")).toString();
    await conn.sendNotification("textDocument/didOpen", {
      textDocument: { uri, languageId: "markdown", version: 1, text: BROKEN_SPEC },
    });
    const report = await conn.sendRequest<{ kind: string; items: Diagnostic[] }>("textDocument/diagnostic", {
      textDocument: { uri },
    });
    assert.equal(report.kind, "full");
    const heading = report.items.find((d) => d.range.start.line === 0 && /Goal/.test(d.message));
    assert.ok(heading, `expected a diagnostic on '# Goals', got ${JSON.stringify(report.items)}`);
    assert.equal(heading.severity, 1);

    const actions = await conn.sendRequest<CodeAction[]>("textDocument/codeAction", {
      textDocument: { uri },
      range: heading.range,
      context: { diagnostics: [heading], only: ["quickfix"], triggerKind: 1 },
    });
    const fix = actions.find((a) => a.kind === "quickfix" && a.edit !== undefined);
    assert.ok(fix, `expected a quickfix with an edit, got ${JSON.stringify(actions)}`);
    const edits = fix.edit?.changes?.[uri] ?? [];
    assert.ok(
      edits.some((e) => e.newText.includes("Goal") && !e.newText.includes("Goals")),
      `the fix should rename the heading to '# Goal': ${JSON.stringify(fix.edit)}`,
    );

    // source.fixAll.harness (editor.codeActionsOnSave) fixes everything with preferred fixes.
    const fixAll = await conn.sendRequest<CodeAction[]>("textDocument/codeAction", {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ["source.fixAll.harness"], triggerKind: 2 },
    });
    assert.ok(
      fixAll.some((a) => a.kind === "source.fixAll.harness" && a.edit !== undefined),
      `expected a source.fixAll.harness action: ${JSON.stringify(fixAll)}`,
    );

    // The fixed text has no heading diagnostic any more.
    const fixed = BROKEN_SPEC.replace("# Goals", "# Goal");
    await conn.sendNotification("textDocument/didChange", {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed }],
    });
    const after = await conn.sendRequest<{ kind: string; items: Diagnostic[] }>("textDocument/diagnostic", {
      textDocument: { uri },
    });
    assert.deepEqual(
      after.items.filter((d) => d.severity === 1),
      [],
      `no errors expected after the fix: ${JSON.stringify(after.items)}`,
    );
  });

  test("settings changes from the extension are accepted without complaint", async (t) => {
    if (server === undefined || conn === undefined) {
      t.skip(skipReason || "server did not initialize");
      return;
    }
    const settings = readSettings(
      (key) =>
        ({ "sidecar.enabled": false, "sidecar.port": 0, model: "scripted:/nonexistent.json", policyMode: "read-only", approvalPrompt: "messageRequest" })[key],
    );
    await conn.sendNotification("workspace/didChangeConfiguration", {
      settings: configurationPayload(toServerSettings(settings, "other-token")),
    });
    // A request after the notification: the server has processed the notification by then.
    await conn.sendRequest("textDocument/diagnostic", {
      textDocument: { uri: pathToFileURL(path.join(workspace, "specs", "login", "spec.md")).toString() },
    });
    assert.deepEqual(
      shown.filter((m) => /setting/i.test(m)),
      [],
      `server rejected the extension's settings: ${shown.join(" | ")}; stderr: ${stderr.slice(-500)}`,
    );
  });
});
