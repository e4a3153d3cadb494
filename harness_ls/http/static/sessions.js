"use strict";
// Chat sessions: the list and one session's live view.
// Classic scripts loaded in order by index.html (app.js first): they share its top-level names.

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
