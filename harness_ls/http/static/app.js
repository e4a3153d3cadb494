"use strict";
// harness-ls dashboard. Plain JS, no build step, no third-party code. All data comes from /v1
// with the HttpOnly session cookie; live views use EventSource and resume from the last seen seq.

const EVENT_TYPES = [
  "run.created", "run.started", "run.resumed", "run.completed", "run.failed", "run.cancelled",
  "run.interrupted", "step.started", "step.completed", "step.failed", "plan.updated", "tool.call",
  "tool.result", "tool.refused", "approval.requested", "approval.resolved", "message.delta",
  "message", "log", "model.unavailable", "model.usage", "model.retry", "message.discarded", "verify.started", "verify.result",
  "artifact.written", "checkpoint.created", "checkpoint.before", "checkpoint.delta",
  "docs.updated", "session.created", "user.message",
  "turn.started", "turn.completed", "turn.cancelled", "turn.queued", "spec.validated",
  "spec.written", "context.trimmed", "context.built", "context.localized", "attachment.added", "attachment.skipped", "store.recovered",
  "store.warning", "session.closed", "session.interrupted",
];
const TERMINAL = new Set(["run.completed", "run.failed", "run.cancelled", "run.interrupted", "session.closed"]);
const view = document.getElementById("view");
const conn = document.getElementById("conn");
let current = null; // the live view's cleanup function
let pollTimer = null;

// ---------- small helpers ----------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const pill = (s) => h("span", { class: `pill ${s}`, dataset: { status: s } }, String(s).replace("_", " "));
const ago = (ts) => {
  if (!ts) return "";
  const s = Math.max(0, (Date.now() - Date.parse(ts)) / 1000);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return new Date(ts).toLocaleString();
};

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status; this.code = e.code; this.hint = e.hint;
  }
}

async function api(path, opts = {}) {
  const init = { credentials: "same-origin", headers: { Accept: "application/json" }, ...opts };
  if (opts.json !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.json);
  }
  let res;
  try { res = await fetch(path, init); } catch (err) { if (liveStreams === 0) setConn("offline"); throw err; }
  if (res.status === 401) { toLogin(); throw new ApiError(401, null); }
  if (liveStreams === 0) setConn("connected"); // a view with no live stream: this answer says so
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function toLogin() {
  // the dashboard is agentd's "/" wherever a proxy mounts it: `next` is a path on agentd
  location.href = "login?next=" + encodeURIComponent("/" + location.hash);
}

// The connection indicator says what is true: connecting / connected / reconnecting / offline,
// with the time of the last event received. A live stream sets it; when none is open (a list, a
// finished run) a light health check does, so it never claims a connection nobody checked.
let lastEventAt = null;
let liveStreams = 0;
function setConn(state) {
  conn.dataset.state = state;
  // "last event" only while a live stream is open: on a list it would be some other page's
  const last = lastEventAt && liveStreams > 0 ? ` · last event ${new Date(lastEventAt).toLocaleTimeString()}` : "";
  conn.textContent = state + last;
  conn.title = `live connection: ${state}${last}`;
}
function sawEvent() { lastEventAt = Date.now(); setConn("connected"); }
async function checkHealth() {
  if (liveStreams > 0) return;
  let state = "offline";
  try {
    const res = await fetch("v1/health", { credentials: "same-origin" });
    if (res.status === 401) return toLogin();
    if (res.ok) state = "connected";
  } catch (e) { /* unreachable: offline */ }
  if (liveStreams === 0) setConn(state);
}
setInterval(checkHealth, 5000);

function errorBox(err) {
  return h("p", { class: "error" }, err.message, err.hint ? h("span", { class: "muted" }, ` — ${err.hint}`) : null);
}

// ---------- live streams with resume ----------
// Keeps `lastSeq`; on any error closes the EventSource and reconnects with ?after=lastSeq, so a
// server restart resumes exactly where the page left off (duplicates are dropped by seq too).
class LiveStream {
  constructor(url, onEvent, onEnd) {
    this.url = url; this.onEvent = onEvent; this.onEnd = onEnd;
    this.lastSeq = 0; this.es = null; this.timer = null; this.delay = 500; this.stopped = false; this.ended = null;
    this.handler = (msg) => this.handle(msg);
  }
  start() { liveStreams += 1; setConn("connecting"); this.connect(); return this; }
  connect() {
    if (this.stopped) return;
    const sep = this.url.includes("?") ? "&" : "?";
    const es = new EventSource(`${this.url}${sep}after=${this.lastSeq}`);
    this.es = es;
    for (const t of new Set(EVENT_TYPES)) es.addEventListener(t, this.handler);
    es.onmessage = this.handler;
    es.onopen = () => { this.delay = 500; setConn("connected"); };
    es.onerror = () => {
      es.close();
      if (this.stopped) return;
      if (this.ended) { // the server closed the stream after a final event: done, no reconnect
        this.stop(); if (this.onEnd) this.onEnd(this.ended); return;
      }
      setConn(this.down ? "offline" : "reconnecting"); // known down: stays offline until back
      this.timer = setTimeout(() => this.check(), this.delay);
      this.delay = Math.min(this.delay * 2, 8000);
    };
  }
  async check() {
    // An EventSource cannot see a 401; ask once before reconnecting.
    try {
      const res = await fetch("v1/health", { credentials: "same-origin" });
      if (res.status === 401) return toLogin();
      this.down = false;
    } catch (e) { this.down = true; setConn("offline"); } /* server down: retry later */
    this.connect();
  }
  handle(msg) {
    let ev;
    try { ev = JSON.parse(msg.data); } catch (e) { return; }
    if (typeof ev.seq !== "number" || ev.seq <= this.lastSeq) return;
    this.lastSeq = ev.seq;
    view.dataset.lastSeq = String(ev.seq);
    sawEvent();
    this.onEvent(ev);
    // a final event ends the stream unless more follow (an interrupted run that was resumed)
    this.ended = TERMINAL.has(ev.type) ? ev : null;
  }
  stop() {
    if (!this.stopped) { liveStreams -= 1; checkHealth(); } // nothing live: say what the server says
    this.stopped = true;
    if (this.es) this.es.close();
    clearTimeout(this.timer);
  }
}

// ---------- approvals ----------
function diffBlock(diff) {
  const pre = h("pre", { class: "diff" });
  for (const line of String(diff).split("\n")) {
    let cls = null;
    if (line.startsWith("+") && !line.startsWith("+++")) cls = "add";
    else if (line.startsWith("-") && !line.startsWith("---")) cls = "del";
    else if (line.startsWith("@@")) cls = "hunk";
    pre.append(cls ? h("span", { class: cls }, line) : document.createTextNode(line + "\n"));
  }
  return pre;
}

// Legacy approvals (events from before the approval view) still never show a raw control,
// bidi or zero-width character: each becomes a visible marker such as ⟨U+202E⟩.
const HIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\u27e8\u27e9]/g;
const revealText = (s) => String(s).replace(HIDDEN, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`);

function previewBlock(p) {
  if (!p) return null;
  return h("div", { class: "preview" },
    p.summary ? h("div", { class: "what" }, revealText(p.summary)) : null,
    p.command ? h("div", {}, h("label", {}, "will run"), h("pre", { class: "command" }, "$ " + revealText(p.command))) : null,
    p.path ? h("div", { class: "muted mono" }, (p.kind === "write" ? "will change " : "") + revealText(p.path)) : null,
    p.diff ? diffBlock(revealText(p.diff)) : null);
}

// The approval view (tools/consent.py, built by the server): every string is already revealed.
// Nothing here scrolls inside a box: the whole command or diff is in the page.
function viewBlock(v) {
  const flags = (v.flags || []).map((f) => h("li", { class: `flag ${f.level}`, dataset: { flag: f.code } },
    h("strong", {}, f.level === "danger" ? "Danger: " : "Caution: "), f.label,
    f.detail ? h("span", { class: "mono" }, ` — ${f.detail}`) : null));
  let n = 0;
  const parts = (v.parts || []).map((p) => p.context
    ? h("li", { class: "part nested", dataset: { flags: (p.flags || []).join(" ") } },
      h("span", { class: "muted" }, `↳ in ${p.context}: `), h("code", {}, p.text))
    : h("li", { class: "part", dataset: { n: String(++n), flags: (p.flags || []).join(" ") } },
      h("code", {}, p.text), p.joiner ? h("span", { class: "joiner" }, ` ${p.joiner}`) : null));
  return h("div", { class: "preview view" },
    h("div", { class: "what" }, v.title),
    v.counts ? h("div", { class: "muted counts" }, v.counts) : null,
    v.warning ? h("div", { class: "banner hidden-chars", role: "alert" },
      h("strong", {}, "⚠ Hidden characters. "), v.warning) : null,
    flags.length ? h("ul", { class: "flags" }, flags) : null,
    v.path ? h("div", { class: "muted mono" }, `will change ${v.path}`) : null,
    v.kind === "shell" && parts.length > 1 ? h("div", {}, h("label", {}, "each simple command on its own line"), h("ol", { class: "parts" }, parts)) : null,
    v.body ? h("div", {}, h("label", {}, { shell: "will run (all of it)", mcp: "will call (an MCP tool)" }[v.kind] || "change (all of it)"),
      v.kind === "write" ? diffBlock(v.body) : h("pre", { class: "command full" }, v.body)) : null);
}

function approvalCard(a, onDone) {
  const note = h("input", { type: "text", placeholder: "note (optional)", "aria-label": "note" });
  const status = h("p", { class: "muted", role: "status" });
  const owner = a.run_id ? `v1/runs/${a.run_id}` : `v1/sessions/${a.session_id}`;
  const buttons = [];
  const answer = async (decision, scope) => {
    buttons.forEach((b) => (b.disabled = true));
    status.textContent = "sending…";
    try {
      const r = await api(`${owner}/approvals/${encodeURIComponent(a.id)}`,
        { json: { decision, note: note.value || null, scope } });
      status.textContent = `${r.status} from this page`;
      card.dataset.answered = r.status;
      if (onDone) onDone(r);
    } catch (err) {
      status.textContent = err.status === 409 ? err.message : `failed: ${err.message}`;
      if (err.status !== 409) buttons.forEach((b) => (b.disabled = false));
    }
  };
  buttons.push(
    h("button", { class: "approve", type: "button", onclick: () => answer("approve", "once"), "data-approval": a.id }, "Approve"),
    h("button", { class: "deny", type: "button", onclick: () => answer("deny", "once"), "data-approval": a.id }, "Deny"),
  );
  const similar = h("button", { type: "button", onclick: () => answer("approve", "similar") }, "Approve similar");
  buttons.push(similar);
  // Approve stays disabled until the end of the content has been on screen: what is approved
  // has been seen, however long it is.
  const end = h("div", { class: "seen-end", "aria-hidden": "true" });
  const gate = h("p", { class: "muted gate" }, "Scroll to the end of the content to approve.");
  const approving = [buttons[0], similar];
  approving.forEach((b) => (b.disabled = true));
  const card = h("section", { class: "card approval", dataset: { approvalId: a.id, seen: "" } },
    h("div", { class: "row" }, h("strong", {}, revealText(a.tool || "")), pill(a.status || "pending"),
      h("span", { class: "muted" }, ago(a.requested_at))),
    a.spec_path ? h("div", { class: "muted mono" }, `${revealText(a.spec_path)}${a.spec_line != null ? ":" + (a.spec_line + 1) : ""}`) : null,
    a.view ? viewBlock(a.view) : previewBlock(a.preview),
    end, gate,
    h("div", { class: "actions" }, buttons.slice(0, 2)),
    h("details", {}, h("summary", {}, "more"), note, similar,
      a.similar ? h("p", { class: "muted similar-rule" }, "Approve similar adds: " + revealText(a.similar)) : null),
    status);
  const seen = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    seen.disconnect();
    card.dataset.seen = "1";
    gate.remove();
    if (!card.dataset.answered) approving.forEach((b) => (b.disabled = false));
  });
  seen.observe(end);
  return card;
}

async function refreshApprovalCount() {
  try {
    const list = await api("v1/approvals");
    const badge = document.getElementById("approval-count");
    badge.textContent = String(list.length);
    badge.hidden = list.length === 0;
    return list;
  } catch (e) { return null; }
}

// ---------- views ----------
const START_FMT = new Intl.DateTimeFormat([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const shortId = (id) => String(id || "").replace(/^run_/, "").slice(0, 8);
function duration(r) {
  const start = Date.parse(r.created_at), end = Date.parse(r.updated_at);
  if (!start || !end || end < start) return "";
  const s = Math.round((end - start) / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
// "attempt 2 of 3" with an Apply button: the chosen attempt goes to the work tree, the others
// are discarded (POST /v1/attempts/{id}/apply).
function attemptOf(meta) {
  const x = meta.extra || {};
  if (!x.attempts) return null;
  const apply = h("button", { class: "button", id: "attempt-apply", onclick: async (e) => {
    e.target.disabled = true;
    try {
      const r = await api(`v1/attempts/${encodeURIComponent(x.attempts)}/apply`, { json: { attempt: x.attempt } });
      e.target.replaceWith(h("span", { class: "muted" }, r.summary || "applied"));
    } catch (err) { e.target.disabled = false; alert(err.message); }
  } }, "Apply this attempt");
  return h("dd", {}, `${x.attempt} of ${x.of} `, h("span", { class: "muted mono" }, x.attempts), " ", apply);
}

function runRow(r, pending) {
  const started = r.created_at ? START_FMT.format(new Date(r.created_at)) : "";
  return h("li", { dataset: { runId: r.id } },
    h("a", { href: `#/runs/${r.id}` },
      h("span", { class: "title" }, r.title || r.spec_path || r.id),
      pill(r.status),
      pending ? h("span", { class: "badge", title: "approvals waiting" }, `${pending} pending`) : null,
      h("span", { class: "muted mono meta" }, [shortId(r.id), started, duration(r), r.node].filter(Boolean).join(" · ")),
      r.outcome && r.outcome !== r.status ? h("span", { class: `muted outcome ${r.status}` }, r.outcome) : null));
}

async function runsView() {
  const wrap = h("div", {});
  view.replaceChildren(wrap);
  const render = async () => {
    let runs, approvals;
    try {
      [runs, approvals] = await Promise.all([api("v1/runs?limit=100"), refreshApprovalCount()]);
    } catch (err) { setConn("offline"); throw err; }
    setConn("connected");
    const pendingBy = new Map();
    for (const a of approvals || []) pendingBy.set(a.run_id, (pendingBy.get(a.run_id) || 0) + 1);
    const items = runs.map((r) => runRow(r, pendingBy.get(r.id) || 0));
    const banner = approvals && approvals.length
      ? [h("a", { class: "banner warn", href: "#/approvals" }, `${approvals.length} approval(s) waiting`)] : [];
    wrap.replaceChildren(...banner,
      h("h1", {}, "Runs"),
      items.length ? h("ul", { class: "list card" }, items) : h("p", { class: "muted" }, "No runs yet."),
      newRunForm());
  };
  await render();
  pollTimer = setInterval(() => render().catch(() => {}), 4000);
}

function newRunForm() {
  const ws = h("input", { name: "workspace", placeholder: "/path/to/workspace", required: true });
  const spec = h("input", { name: "spec", placeholder: "specs/feature/spec.md", required: true });
  const msg = h("p", { role: "status" });
  const form = h("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const run = await api("v1/runs", { json: { workspace: ws.value, spec: spec.value } });
        location.hash = `#/runs/${run.id}`;
      } catch (err) { msg.replaceChildren(errorBox(err)); }
    },
  }, h("label", {}, "Workspace"), ws, h("label", {}, "Spec"), spec,
  h("button", { class: "primary", type: "submit" }, "Start run"), msg);
  return h("details", { class: "card" }, h("summary", {}, "New run"), form);
}

async function approvalsView() {
  const wrap = h("div", {});
  view.replaceChildren(h("h1", {}, "Pending approvals"), wrap);
  const render = async () => {
    if (wrap.querySelector("input:focus")) return; // do not yank a card while typing a note
    const list = await refreshApprovalCount();
    if (!list) return;
    wrap.replaceChildren(...(list.length ? list.map((a) => h("div", {},
      h("a", { href: a.run_id ? `#/runs/${a.run_id}` : `#/sessions/${a.session_id}`, class: "muted" }, a.run_id || a.session_id),
      approvalCard(a, () => setTimeout(render, 300)))) : [h("p", { class: "muted" }, "Nothing is waiting for you.")]));
  };
  await render();
  pollTimer = setInterval(() => render().catch(() => {}), 3000);
}

function runState() {
  return { plan: [], steps: new Map(), output: [], approvals: new Map(), verify: [], logs: [], tools: new Map(), status: null, outcome: null, usage: null };
}

// Same wording as agentctl (harness_ls/cli/render.py retry_text, harness_ls/usage.py tokens_text).
function retryText(d) {
  let cause = d.status ? `HTTP ${d.status}` : (d.error || "an error");
  if (d.phase === "stream") cause += " mid-answer";
  let text = `retrying (${(d.attempt || 0) + 1}/${d.max_attempts || "?"}) after ${cause} in ${Number(d.delay_s || 0).toFixed(1)} s`;
  if (d.message) text += `: ${d.message}`;
  if (d.request_id) text += ` [request ${d.request_id}]`;
  return text;
}

function tokensText(u) {
  if (!u) return "";
  if (u.input_tokens == null && u.output_tokens == null) return u.model_calls ? "tokens n/a" : "";
  return `${u.unreported_calls ? "≥ " : ""}${u.input_tokens || 0}→${u.output_tokens || 0} tokens`;
}
// Under the "tokens" label: the same figure without the word ("1200→80 in→out", "n/a").
function tokensValue(u) {
  const text = tokensText(u);
  if (text === "tokens n/a") return "n/a (the model reported no usage)";
  return text.replace(/ tokens$/, " in→out");
}

// "openai:gpt-4.1" and, apart, why — without saying the model twice: a reason that starts with
// the model's name (models/resolve.py) or repeats its path (scripted) keeps only its source.
function modelWhy(model, reason) {
  let why = String(reason || "").trim();
  const m = String(model || "");
  if (m && why.startsWith(m)) why = why.slice(m.length).replace(/^[\s:]+/, "");
  const id = m.includes(":") ? m.slice(m.indexOf(":") + 1) : m;
  const tail = why.match(/\(([^()]*)\)$/);
  if (tail && (why === tail[0] || (id && why.includes(id)))) why = tail[1];
  return why && why !== m ? `from ${why}` : "";
}

// Plan steps go ○ → ▸ → ✓/✗ live, from the step events of the same id.
function markPlan(st, stepId, status) {
  st.plan = st.plan.map((p) => (p.id && p.id === stepId ? { ...p, status } : p));
}

function reduceRun(st, ev) {
  const d = ev.data || {};
  switch (ev.type) {
    // a resumed run's plan marks finished steps "done": the same ✓ as a live step.completed
    case "plan.updated": st.plan = (d.steps || []).map((p) => (p.status === "done" ? { ...p, status: "completed" } : p)); break;
    case "step.started": st.steps.set(ev.step_id, { title: d.title || d.phase, phase: d.phase, status: "running" }); markPlan(st, ev.step_id, "running"); break;
    case "step.completed": case "step.failed": {
      const s = st.steps.get(ev.step_id) || { title: d.title || d.phase };
      s.status = ev.type === "step.completed" ? "completed" : "failed"; s.error = d.reason || d.error;
      st.steps.set(ev.step_id, s); markPlan(st, ev.step_id, s.status); break;
    }
    case "message.delta": {
      const last = st.output[st.output.length - 1];
      if (last && last.kind === "text" && last.step === ev.step_id && !last.done) last.text += d.text || "";
      else st.output.push({ kind: "text", step: ev.step_id, text: d.text || "" });
      break;
    }
    case "message": {
      const last = st.output[st.output.length - 1];
      if (last && last.kind === "text" && last.step === ev.step_id && !last.done) { last.text = d.text || last.text; last.done = true; }
      else st.output.push({ kind: "text", step: ev.step_id, text: d.text || "", done: true });
      break;
    }
    case "tool.call": st.tools.set(ev.call_id, { tool: d.name || d.tool, args: d.arguments || d.args, status: "called" }); st.output.push({ kind: "tool", id: ev.call_id }); break;
    case "tool.result": {
      const t = st.tools.get(ev.call_id) || { tool: d.name || d.tool }; t.status = d.ok ? "ok" : "failed"; t.output = d.output; t.diff = (d.data || {}).diff;
      st.tools.set(ev.call_id, t); break;
    }
    case "tool.refused": {
      const t = st.tools.get(ev.call_id) || { tool: d.name || d.tool }; t.status = "refused"; t.output = d.reason; st.tools.set(ev.call_id, t); break;
    }
    case "approval.requested":
      st.approvals.set(d.approval_id || ev.step_id || ev.call_id, {
        id: d.approval_id || ev.step_id || ev.call_id, run_id: ev.run_id, session_id: ev.session_id, tool: d.tool,
        preview: d.preview, view: d.view, similar: d.similar, spec_path: d.spec_path, spec_line: d.spec_line, requested_at: ev.ts, status: "pending" });
      if (st.status === "running" || st.status === "created") st.status = "waiting_approval";
      break;
    case "approval.resolved": {
      const a = st.approvals.get(d.approval_id || ev.step_id || ev.call_id);
      if (a) { a.status = d.decision === "approve" ? "approved" : d.decision === "deny" ? "denied" : "cancelled"; a.surface = d.surface; }
      const waiting = [...st.approvals.values()].some((x) => x.status === "pending");
      if (st.status === "waiting_approval" && !waiting) st.status = "running";
      break;
    }
    case "verify.result": st.verify.push(d); break;
    case "log": case "model.unavailable": case "store.warning": st.logs.push({ type: ev.type, ...d }); break;
    case "model.retry": st.logs.push({ type: ev.type, message: retryText(d) }); break;
    case "context.localized": if (d.fallback && d.note) st.logs.push({ type: ev.type, message: `localization: ${d.note}` }); break;
    case "message.discarded": {
      const last = st.output[st.output.length - 1];
      if (last && last.kind === "text" && !last.done) { last.discarded = true; last.done = true; }
      break;
    }
    case "run.started": case "run.resumed": st.status = "running"; if (d.node) st.node = d.node; break;
    case "run.applied": st.logs.push({ type: d.ok ? "info" : "warning", message: d.summary || d.error || "applied" }); break;
    case "run.completed": st.status = "completed"; st.outcome = d.outcome; st.usage = d.usage; (d.warnings || []).forEach((w) => st.logs.push({ type: "warning", message: w })); break;
    case "run.failed": st.status = "failed"; st.outcome = d.reason || d.error; st.usage = d.usage; break;
    case "run.cancelled": st.status = "cancelled"; break;
    case "run.interrupted": st.status = "interrupted"; break;
    default: break;
  }
}

// What a tool call was about, for its card's one line: the file, the command, the query.
function toolTarget(t) {
  const a = t.args || {};
  if (a.command) return `$ ${String(a.command).split("\n")[0]}`;
  if (a.path) return String(a.path);
  if (a.query || a.pattern) return String(a.query || a.pattern);
  return "";
}
function toolBlock(t) {
  const target = toolTarget(t);
  return h("details", { class: "card tool" },
    h("summary", {}, h("strong", {}, t.tool || "tool"), target ? h("span", { class: "mono target", title: revealText(target) }, revealText(target)) : null,
      pill(t.status === "ok" ? "ok" : t.status === "called" ? "running" : t.status === "refused" ? "refused" : "failed")),
    t.args ? h("pre", {}, JSON.stringify(t.args, null, 2)) : null,
    t.diff ? diffBlock(t.diff) : null,
    t.output ? h("pre", {}, t.output) : null);
}

async function runView(id) {
  let meta;
  try { meta = await api(`v1/runs/${encodeURIComponent(id)}`); } catch (err) { view.replaceChildren(errorBox(err)); return; }
  const st = runState();
  st.status = meta.status;
  if (["completed", "failed", "cancelled", "interrupted"].includes(meta.status)) st.outcome = meta.outcome; // why, before the stream replays
  const head = h("div", {});
  const approvalsBox = h("div", { id: "run-approvals" });
  const planBox = h("div", {}); const outBox = h("div", { class: "timeline" });
  const verifyBox = h("div", {}); const logBox = h("div", {}); const diffBox = h("div", {});
  view.replaceChildren(head, approvalsBox, h("h2", {}, "Plan"), planBox, h("h2", {}, "Output"), outBox,
    h("h2", {}, "Verify"), verifyBox, logBox, h("h2", {}, "Diff"), diffBox);
  const cards = new Map();
  let scheduled = false;
  const render = () => {
    scheduled = false;
    const cancel = ["completed", "failed", "cancelled", "interrupted"].includes(st.status) ? null
      : h("button", { class: "deny", type: "button", onclick: async () => { try { await api(`v1/runs/${id}/cancel`, { method: "POST" }); } catch (e) { alert(e.message); } } }, "Cancel run");
    const resume = st.status !== "interrupted" ? null
      : h("button", { class: "primary", type: "button", id: "resume", onclick: async (e) => {
        e.target.disabled = true;
        try {
          await api("v1/runs", { json: { workspace: meta.workspace, spec: meta.spec_path, resume: id } });
          route(); // re-open the view: the stream continues after run.interrupted
        } catch (err) { e.target.disabled = false; alert(err.message); }
      } }, "Resume");
    head.replaceChildren(
      h("h1", {}, meta.title || meta.spec_path || meta.id),
      h("div", { class: "status-block" }, h("span", { id: "run-status", dataset: { status: st.status } }, pill(st.status)),
        st.outcome ? h("p", { id: "run-outcome", class: `outcome ${st.status}` }, st.outcome) : null),
      h("dl", { class: "kv" }, h("dt", {}, "run"), h("dd", { class: "mono" }, meta.id), h("dt", {}, "spec"), h("dd", {}, meta.spec_path || ""),
        h("dt", {}, "workspace"), h("dd", {}, meta.workspace || ""), h("dt", {}, "model"),
        h("dd", { id: "run-model" }, meta.model || "default", modelWhy(meta.model, meta.model_reason) ? h("span", { class: "muted" }, ` · ${modelWhy(meta.model, meta.model_reason)}`) : null),
        h("dt", {}, "node"), h("dd", { id: "run-node", class: "mono" }, st.node || meta.node || "local (in agentd)"),
        attemptOf(meta) ? h("dt", {}, "attempt") : null, attemptOf(meta),
        st.usage && tokensText(st.usage) ? h("dt", {}, "tokens") : null, st.usage && tokensText(st.usage) ? h("dd", { id: "run-tokens" }, tokensValue(st.usage)) : null),
      h("div", { class: "actions" }, cancel, resume, h("a", { class: "button", href: `v1/runs/${id}/export` }, "Export zip")));
    for (const a of st.approvals.values()) {
      let card = cards.get(a.id);
      if (a.status === "pending" && !card) { card = approvalCard(a); cards.set(a.id, card); approvalsBox.append(card); }
      if (a.status !== "pending" && card) { card.remove(); cards.delete(a.id); }
    }
    planBox.replaceChildren(st.plan.length ? h("ol", { class: "steps" }, st.plan.map((s) => h("li", { dataset: { status: s.status } },
      h("span", { class: "mark" }, { completed: "✓", failed: "✗", running: "▸", skipped: "–" }[s.status] || "○"),
      h("span", { class: "title" }, s.title)))) : h("p", { class: "muted" }, "No plan yet."));
    outBox.replaceChildren(...st.output.map((o) => o.kind === "text"
      ? h("div", { class: o.discarded ? "ev output discarded" : "ev output", title: o.discarded ? "broke off; not part of the answer" : "" }, o.text)
      : toolBlock(st.tools.get(o.id) || {})));
    verifyBox.replaceChildren(...(st.verify.length ? st.verify.map((v) => h("div", { class: `card verify ${v.ok ? "ok" : "bad"}` },
      h("div", {}, v.ok ? "✓ " : "✗ ", h("code", {}, v.command), v.exit_code != null ? ` (exit ${v.exit_code})` : ""),
      v.output ? h("details", {}, h("summary", {}, "output"), h("pre", {}, v.output)) : null)) : [h("p", { class: "muted" }, "No results yet.")]));
    logBox.replaceChildren(...st.logs.slice(-20).map((l) => h("div", { class: "banner warn" }, l.message || l.reason || JSON.stringify(l), l.hint ? h("div", { class: "muted" }, l.hint) : null)));
  };
  const schedule = () => { if (!scheduled) { scheduled = true; requestAnimationFrame(render); } };
  const loadDiff = async () => {
    try { const d = await api(`v1/runs/${id}/diff`); diffBox.replaceChildren(d.diff ? diffBlock(d.diff) : h("p", { class: "muted" }, "No changes.")); } catch (e) { /* optional */ }
  };
  render(); loadDiff();
  const stream = new LiveStream(`v1/runs/${encodeURIComponent(id)}/events`, (ev) => {
    reduceRun(st, ev);
    if (ev.type === "tool.result" || ev.type === "checkpoint.created") loadDiff();
    schedule();
  }, () => { schedule(); loadDiff(); refreshApprovalCount(); }).start();
  current = () => stream.stop();
}

// Where a session was started (recorded at creation, `surface`): the editor's ACP panel, agentctl, ...
const SURFACES = { acp: "ACP", cli: "CLI", editor: "editor", dashboard: "dashboard", http: "API" };
const shortSession = (id) => String(id || "").replace(/^(ses|session)_/, "").slice(0, 8);
function sessionRow(s) {
  const surface = s.surface ? (SURFACES[s.surface] || s.surface) : null;
  const title = s.title || (s.mode === "spec" && s.spec_path ? `spec: ${s.spec_path}` : "(no message yet)");
  return h("li", { dataset: { sessionId: s.id, surface: s.surface || "" } }, h("a", { href: `#/sessions/${s.id}` },
    h("span", { class: "title" }, revealText(title)), pill(s.status),
    h("span", { class: "muted mono meta" }, [surface, s.mode === "spec" ? "spec mode" : null, shortSession(s.id),
      ago(s.updated_at || s.created_at)].filter(Boolean).join(" · "))));
}

async function sessionsView() {
  const list = await api("v1/sessions?limit=100");
  const ws = h("input", { placeholder: "/path/to/workspace", required: true });
  const msg = h("p", {});
  view.replaceChildren(h("h1", {}, "Sessions"),
    list.length ? h("ul", { class: "list card" }, list.map(sessionRow)) : h("p", { class: "muted" }, "No sessions yet."),
    h("details", { class: "card" }, h("summary", {}, "New session"), h("form", {
      onsubmit: async (e) => {
        e.preventDefault();
        try { const s = await api("v1/sessions", { json: { workspace: ws.value } }); location.hash = `#/sessions/${s.id}`; } catch (err) { msg.replaceChildren(errorBox(err)); }
      },
    }, h("label", {}, "Workspace"), ws, h("button", { class: "primary", type: "submit" }, "Start"), msg)));
}

async function sessionView(id) {
  let meta;
  try { meta = await api(`v1/sessions/${encodeURIComponent(id)}`); } catch (err) { view.replaceChildren(errorBox(err)); return; }
  const log = h("div", { class: "transcript" });
  const approvals = h("div", {});
  const text = h("textarea", { placeholder: "Message… (Ctrl+Enter to send)", "aria-label": "message" });
  const file = h("input", { type: "file", "aria-label": "attach a file" });
  const status = h("p", { class: "muted", role: "status" });
  const attached = [];
  const cancel = h("button", { class: "deny", type: "button", hidden: true, onclick: async () => {
    try { await api(`v1/sessions/${id}/cancel`, { method: "POST" }); } catch (err) { status.textContent = err.message; }
  } }, "Stop");
  const send = async () => {
    if (!text.value.trim()) return;
    status.textContent = "sending…";
    try {
      await api(`v1/sessions/${id}/messages`, { json: { text: text.value, attachments: attached.splice(0) } });
      text.value = ""; status.textContent = "";
    } catch (err) { status.textContent = err.message; }
  };
  text.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(); });
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    const fd = new FormData(); fd.append("file", file.files[0]);
    status.textContent = "uploading…";
    try {
      const res = await fetch(`v1/sessions/${id}/attachments`, { method: "POST", body: fd, credentials: "same-origin" });
      const body = await res.json();
      if (!res.ok) throw new ApiError(res.status, body);
      attached.push(body.ref);
      status.textContent = `attached ${file.files[0].name}`;
    } catch (err) { status.textContent = err.message; }
    file.value = "";
  });
  view.replaceChildren(h("h1", {}, revealText(meta.title || "Session")), h("div", { class: "row" }, pill(meta.status), h("span", { class: "muted mono" }, meta.id)),
    log, approvals,
    h("div", { class: "composer" }, text, h("div", { class: "row" }, file, cancel, h("button", { class: "primary", type: "button", onclick: send, id: "send" }, "Send")), status));
  let live = null;
  const cards = new Map();
  const stream = new LiveStream(`v1/sessions/${encodeURIComponent(id)}/events`, (ev) => {
    const d = ev.data || {};
    if (ev.type === "user.message") { log.append(h("div", { class: "msg user" }, d.content || d.text || "")); live = null; }
    else if (ev.type === "message.delta") {
      if (!live) { live = h("div", { class: "msg assistant" }); log.append(live); }
      live.textContent += d.text || "";
    } else if (ev.type === "message") {
      if (live) live.textContent = d.text || live.textContent; else log.append(h("div", { class: "msg assistant" }, d.text || ""));
      live = null;
    } else if (ev.type === "tool.call") log.append(h("div", { class: "muted mono" }, `→ ${d.name || d.tool}`));
    else if (ev.type === "approval.requested") {
      const a = { id: d.approval_id || ev.call_id, session_id: id, tool: d.tool, preview: d.preview, view: d.view, requested_at: ev.ts, status: "pending" };
      const card = approvalCard(a); cards.set(a.id, card); approvals.append(card);
    } else if (ev.type === "approval.resolved") {
      const c = cards.get(d.approval_id || ev.call_id); if (c) { c.remove(); cards.delete(d.approval_id || ev.call_id); }
    } else if (ev.type === "turn.started") { cancel.hidden = false; status.textContent = "working…"; }
    else if (ev.type === "turn.completed" || ev.type === "turn.cancelled") {
      cancel.hidden = true; status.textContent = ""; live = null;
      if (ev.type === "turn.cancelled") log.append(h("div", { class: "banner warn" }, `turn ${d.reason || "cancelled"}`));
      else if (d.ok === false && d.error) log.append(h("div", { class: "banner warn" }, d.error));
    } else if (ev.type === "turn.queued") status.textContent = `queued (position ${d.position})`;
    else if (ev.type === "model.retry") status.textContent = retryText(d);
    else if (ev.type === "message.discarded") { if (live) live.classList.add("discarded"); live = null; }
    else if (ev.type === "attachment.skipped") log.append(h("div", { class: "banner warn" }, `${d.name} was not sent to the model: ${d.reason}`));
    else if (ev.type === "model.unavailable") log.append(h("div", { class: "banner warn" }, d.message || d.reason || "no model", d.hint ? h("div", { class: "muted" }, d.hint) : null));
    else if (ev.type === "log" && d.level !== "info") log.append(h("div", { class: "banner warn" }, d.message || ev.type));
    else if (ev.type === "tool.result") log.append(h("div", { class: "muted mono" }, `${d.ok ? "✓" : "✗"} ${d.name || d.tool}`));
  }).start();
  current = () => stream.stop();
}

// ---------- router ----------
async function route() {
  if (current) { current(); current = null; }
  clearInterval(pollTimer);
  setConn("connecting");
  const hash = location.hash.replace(/^#/, "") || "/";
  const parts = hash.split("/").filter(Boolean);
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active",
    a.dataset.nav === (parts[0] === "approvals" ? "approvals" : parts[0] === "sessions" ? "sessions" : "runs")));
  view.dataset.lastSeq = "0";
  try {
    if (parts[0] === "runs" && parts[1]) await runView(decodeURIComponent(parts[1]));
    else if (parts[0] === "approvals") await approvalsView();
    else if (parts[0] === "sessions" && parts[1]) await sessionView(decodeURIComponent(parts[1]));
    else if (parts[0] === "sessions") await sessionsView();
    else await runsView();
  } catch (err) {
    if (err.status !== 401) view.replaceChildren(errorBox(err));
  }
  refreshApprovalCount();
}

function initTheme() {
  const saved = localStorage.getItem("harness-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  document.getElementById("theme").addEventListener("click", () => {
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const now = document.documentElement.dataset.theme || (dark ? "dark" : "light");
    const next = now === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("harness-theme", next);
  });
}

initTheme();
window.addEventListener("hashchange", route);
route();
