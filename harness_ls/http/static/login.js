"use strict";
// Login page. A one-time login link (/login#nonce=...) is exchanged for the session cookie by a
// POST; the fragment never reaches the server or its logs and is removed from history at once.
// `next` goes through safeNext, the same rule as the server's safe_next (http/auth.py).
(function () {
  // A same-origin path, or "/": no backslash, no control character (raw or %-encoded; browsers
  // drop tab/newline and read "\" as "/", so "/\evil" and "/%09/evil" would become "//evil").
  function safeNext(raw) {
    if (!raw || raw.length > 2048 || raw[0] !== "/" || raw.startsWith("//")) return "/";
    if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return "/";
    let decoded;
    try { decoded = decodeURIComponent(raw); } catch (e) { return "/"; }
    for (const text of [raw, decoded]) {
      if (text.includes("\\") || /[\u0000-\u001f\u007f]/.test(text)) return "/";
    }
    if (decoded.startsWith("//")) return "/";
    let url;
    try { url = new URL(raw, location.origin); } catch (e) { return "/"; }
    return url.origin === location.origin ? raw : "/";
  }
  window.harnessSafeNext = safeNext; // for tests: the browser's own URL parser decides
  // `next` is a path on agentd ("/#/runs/<id>"); behind a path-prefix proxy (code-server's
  // /proxy/<port>/) agentd's "/" is this page's directory, so resolve it there. The server's
  // redirect after the POST does the same ("./" + next, relative to <base>login).
  const base = location.pathname.replace(/[^/]*$/, "");
  function onBase(path) { return base + safeNext(path).slice(1); }
  window.harnessOnBase = onBase;

  const params = new URLSearchParams(location.search);
  if (params.get("failed")) document.getElementById("failed").hidden = false;
  if (params.get("expired")) document.getElementById("expired").hidden = false;
  const next = document.getElementById("next");
  next.value = safeNext(params.get("next"));
  // a deep link (/#/runs/<id>) survives the detour through the login page
  if (location.hash.startsWith("#/")) next.value = safeNext("/" + location.hash);
  const frag = new URLSearchParams(location.hash.slice(1));
  const nonce = frag.get("nonce");
  // the editor's link names the run in the fragment too (a proxy may drop the query)
  const run = frag.get("run");
  if (run && /^run_[A-Za-z0-9]{1,64}$/.test(run)) next.value = safeNext("/#/runs/" + run);
  const token = frag.get("token");
  if (nonce || token) {
    history.replaceState(null, "", location.pathname + location.search);
    if (nonce) document.getElementById("nonce").value = nonce;
    else document.getElementById("token").value = token;
    document.getElementById("login").submit();
  }
  else {
    // Arriving from a link on another site, the browser withholds our SameSite=Strict cookie on
    // that first navigation; a fetch from this page does send it. Already logged in → go on.
    fetch("v1/health", { credentials: "same-origin" }).then((r) => {
      if (r.ok && !params.get("failed")) location.replace(onBase(next.value));
    }).catch(() => {});
  }
  const theme = localStorage.getItem("harness-theme");
  if (theme) document.documentElement.dataset.theme = theme;
})();
