"use strict";
// The --no-auth banner: shown whenever the server says it checks no token.
(function () {
  fetch("v1/health", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((h) => {
    if (h && h.auth === false) document.getElementById("noauth").hidden = false;
  }).catch(() => {});
})();
