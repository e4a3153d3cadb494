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
  "store.warning", "session.closed", "session.interrupted", "run.applied",
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
