"use strict";
// Login page: shows a failed attempt, and accepts a token from the URL fragment
// (/login#token=...) so a link never sends the token to the server or into logs.
(function () {
  const params = new URLSearchParams(location.search);
  if (params.get("failed")) document.getElementById("failed").hidden = false;
  const next = params.get("next");
  if (next && next.startsWith("/") && !next.startsWith("//")) document.getElementById("next").value = next;
  // a deep link (/#/runs/<id>) survives the detour through the login page
  if (location.hash.startsWith("#/")) document.getElementById("next").value = "/" + location.hash;
  const frag = new URLSearchParams(location.hash.slice(1));
  const token = frag.get("token");
  if (token) {
    history.replaceState(null, "", location.pathname + location.search);
    document.getElementById("token").value = token;
    document.getElementById("login").submit();
  }
  else {
    // Arriving from a link on another site, the browser withholds our SameSite=Strict cookie on
    // that first navigation; a fetch from this page does send it. Already logged in → go on.
    fetch("/v1/health", { credentials: "same-origin" }).then((r) => {
      if (r.ok && !params.get("failed")) location.replace(document.getElementById("next").value || "/");
    }).catch(() => {});
  }
  const theme = localStorage.getItem("harness-theme");
  if (theme) document.documentElement.dataset.theme = theme;
})();
