// An ACP editor on the official TypeScript SDK (@agentclientprotocol/sdk): spawns the agent command
// given after `--`, opens a session in --cwd and sends each --prompt in turn, answering permission
// requests with --answer (allow_once | reject_once). Prints one JSON document: every message it saw
// in order (tool_call ids, permission requests, stop reasons, errors) for the Python test to check.
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { client, methods, ndJsonStream, PROTOCOL_VERSION } from "@agentclientprotocol/sdk";

const argv = process.argv.slice(2);
const dash = argv.indexOf("--");
const opts = { prompt: [], answer: "allow_once", cwd: process.cwd() };
for (let i = 0; i < dash; i += 2) {
  const key = argv[i].replace(/^--/, "");
  if (key === "prompt") opts.prompt.push(argv[i + 1]);
  else opts[key] = argv[i + 1];
}
const [cmd, ...args] = argv.slice(dash + 1);
const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ["pipe", "pipe", "inherit"] });
const log = [];

const app = client({ name: "harness-test-node-client" })
  .onRequest(methods.client.session.requestPermission, async ({ params }) => {
    log.push({ kind: "permission", toolCallId: params.toolCall.toolCallId, title: params.toolCall.title });
    return { outcome: { outcome: "selected", optionId: opts.answer } };
  })
  .onNotification(methods.client.session.update, async ({ params }) => {
    const u = params.update;
    log.push({ kind: u.sessionUpdate, toolCallId: u.toolCallId, status: u.status, title: u.title,
               text: u.content && u.content.type === "text" ? u.content.text : undefined });
  });

const stream = ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout));
let exitCode = 0;
try {
  await app.connectWith(stream, async (ctx) => {
    const init = await ctx.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION, clientCapabilities: {},
    });
    log.push({ kind: "initialized", agent: init.agentInfo && init.agentInfo.name });
    const session = await ctx.request(methods.agent.session.new, { cwd: opts.cwd, mcpServers: [] });
    for (const text of opts.prompt) {
      try {
        const res = await ctx.request(methods.agent.session.prompt, {
          sessionId: session.sessionId, prompt: [{ type: "text", text }],
        });
        log.push({ kind: "stop", stopReason: res.stopReason });
      } catch (err) {
        log.push({ kind: "error", code: err.code, message: String(err.message), data: err.data });
      }
    }
  });
} catch (err) {
  log.push({ kind: "connection-error", message: String(err && err.message) });
  exitCode = 1;
}
child.stdin.end();
await new Promise((resolve) => child.once("exit", resolve));
process.stdout.write(JSON.stringify({ log, agentExit: child.exitCode }) + "\n");
process.exit(exitCode);
