"use strict";
// The hash router and the theme toggle; starts the app.
// Classic scripts loaded in order by index.html (app.js first): they share its top-level names.

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
