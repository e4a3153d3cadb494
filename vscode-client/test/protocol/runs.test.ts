/**
 * The run/approval notifications the extension consumes, from the real harness-ls: a spec run
 * with the scripted model in a real git repo; `harness/approvalRequested` and `harness/runStatus`
 * go through the same parsers as in the extension (approvals.ts, status.ts) and the Approve
 * command the notification's button sends finishes the run.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";

import { parseApprovalRequest, PendingApprovals, sameUri } from "../../src/approvals";
import { readPending, RunBoard, type RunStatusParams, statusView } from "../../src/status";
import { configurationPayload, readSettings, toServerSettings } from "../../src/settings";
import { findServer, type Session, startSession } from "./harness";

const SPEC = "# Goal\n\nMake greet.txt say hello instead of hi.\n\n# Constraints / nuances\n\n- Only touch greet.txt.\n\n# Acceptance tests\n\n- `grep -qx hello greet.txt`\n";
const SCRIPT = {
  responses: [
    { text: '{"steps": [{"title": "Write hello into greet.txt", "spec_line": 2}]}' },
    { tool_calls: [{ name: "write_file", arguments: { path: "greet.txt", content: "hello\n" } }] },
    { text: "Wrote greet.txt." },
    { text: "Nothing to document." },
  ],
};
const CAPABILITIES = {
  workspace: { configuration: true, executeCommand: {} },
  textDocument: { diagnostic: {}, publishDiagnostics: {}, codeAction: {}, codeLens: {} },
  window: { workDoneProgress: true, showDocument: { support: true } },
};

let tmp = "";
let session: Session | undefined;

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "harness-runs-"));
});

after(async () => {
  await session?.stop();
  await rm(tmp, { recursive: true, force: true });
});

test("approvalRequested and runStatus feed the status bar; Approve finishes the run", async (t) => {
  const ws = path.join(tmp, "repo");
  await mkdir(path.join(ws, "specs", "greet"), { recursive: true });
  await writeFile(path.join(ws, "specs", "greet", "spec.md"), SPEC);
  await writeFile(path.join(ws, "greet.txt"), "hi\n");
  const git = (...args: string[]): void => {
    execFileSync("git", args, { cwd: ws, stdio: "ignore" });
  };
  git("init", "-q", "-b", "main");
  git("config", "user.email", "t@example.com");
  git("config", "user.name", "Test");
  git("add", "-A");
  git("commit", "-q", "-m", "init");
  const script = path.join(tmp, "script.json");
  await writeFile(script, JSON.stringify(SCRIPT));

  const { server, reason } = await findServer(ws);
  if (server === undefined) {
    if (process.env.CI === "true") {
      assert.fail(reason);
    }
    t.skip(reason);
    return;
  }
  const settings = readSettings((key) => ({ model: `scripted:${script}`, "sidecar.port": 0 })[key]);
  session = await startSession(server, ws, CAPABILITIES, configurationPayload(toServerSettings(settings)));
  const specUri = pathToFileURL(path.join(ws, "specs", "greet", "spec.md")).toString();
  await session.conn.sendNotification("textDocument/didOpen", {
    textDocument: { uri: specUri, languageId: "markdown", version: 1, text: SPEC },
  });

  const started = await session.conn.sendRequest<{ runId: string }>("workspace/executeCommand", {
    command: "harness.runSpec",
    arguments: [specUri],
  });
  assert.match(started.runId, /^run_/);

  const raw = await session.waitFor<unknown>("harness/approvalRequested", () => true);
  const request = parseApprovalRequest(raw);
  assert.ok(request, `unparseable approvalRequested: ${JSON.stringify(raw)}`);
  assert.equal(request.runId, started.runId);
  assert.ok(request.specUri !== undefined && sameUri(request.specUri, specUri), JSON.stringify(raw));
  assert.match(request.summary, /greet\.txt/);

  const board = new RunBoard();
  const approvals = new PendingApprovals();
  approvals.add(request);
  const waiting = await session.waitFor<RunStatusParams>(
    "harness/runStatus",
    (p) => p.runId === started.runId && readPending(p.pendingApprovals).count === 1,
  );
  board.update(waiting);
  assert.equal(statusView("running", board, approvals.size).text, "$(bell-dot) Harness: 1 approval");

  const answer = await session.conn.sendRequest<{ ok: boolean }>("workspace/executeCommand", {
    command: "harness.approve",
    arguments: [request.id],
  });
  assert.equal(answer.ok, true, JSON.stringify(answer));

  const done = await session.waitFor<RunStatusParams>(
    "harness/runStatus",
    (p) => p.runId === started.runId && p.state === "completed",
    60000,
  );
  board.update(done);
  approvals.syncRun(done.runId, readPending(done.pendingApprovals), true);
  assert.equal(statusView("running", board, approvals.size).text, "$(checklist) Harness");
  assert.equal(await readFile(path.join(ws, "greet.txt"), "utf8"), "hello\n");
  const progress = session.notifications.filter((n) => n.method === "$/progress").map((n) => (n.params as { value: { kind: string } }).value.kind);
  assert.equal(progress[0], "begin");
  assert.equal(progress.at(-1), "end");
});
