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
  const theme = localStorage.getItem("harness-theme");
  if (theme) document.documentElement.dataset.theme = theme;
})();
