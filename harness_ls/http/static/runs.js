"use strict";
// The runs list, the new-run form and one run's live view (reduced from its events).
// Classic scripts loaded in order by index.html (app.js first): they share its top-level names.

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
