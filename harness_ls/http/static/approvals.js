"use strict";
// Approval cards (every surface shows the same view), the pending count.
// Classic scripts loaded in order by index.html (app.js first): they share its top-level names.

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
