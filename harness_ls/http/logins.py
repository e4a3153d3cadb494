"""Dashboard sessions and one-time login links.

Session cookies are random ids; the server keeps only their SHA-256 and an expiry, in
`<data_dir>/auth/sessions.json` (0600), so agentd and an editor's sidecar on the same data dir
accept the same login, a restart keeps it, and logout really revokes: a copied cookie stops
working the moment its id is deleted. Login rotates (a fresh id every time).

Login links carry a nonce, not the token: single use, valid for `LINK_TTL` seconds, kept in
memory by the process that served the link.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from pathlib import Path

from harness_ls.private import private_dir, write_private

SESSION_TTL = 7 * 24 * 3600
LINK_TTL = 120.0
MAX_SESSIONS = 200  # oldest dropped beyond this; each login adds one


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


class Logins:
    """Nonces (in memory) and session ids (in `path`, or memory when `path` is None)."""

    def __init__(self, path: Path | None, *, link_ttl: float = LINK_TTL) -> None:
        self.path = path
        self.link_ttl = link_ttl
        self._nonces: dict[str, float] = {}
        self._sessions: dict[str, float] = {}
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    # ---- one-time links -------------------------------------------------------------------
    def new_nonce(self) -> str:
        nonce = secrets.token_urlsafe(24)
        now = time.time()
        with self._lock:
            self._nonces = {k: v for k, v in self._nonces.items() if v > now}
            self._nonces[_digest(nonce)] = now + self.link_ttl
        return nonce

    def take_nonce(self, nonce: str | None) -> bool:
        """True once for a fresh nonce; used, expired or unknown nonces are False."""
        if not nonce:
            return False
        with self._lock:
            expires = self._nonces.pop(_digest(nonce), None)
        return expires is not None and expires > time.time()

    # ---- sessions -------------------------------------------------------------------------
    def new_session(self) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._reload()
            live = {k: v for k, v in self._sessions.items() if v > now}
            keep = sorted(live.items(), key=lambda kv: kv[1])[-(MAX_SESSIONS - 1) :]
            self._sessions = dict(keep)
            self._sessions[_digest(sid)] = now + SESSION_TTL
            self._save()
        return sid

    def valid(self, sid: str | None) -> bool:
        if not sid:
            return False
        with self._lock:
            self._reload()
            expires = self._sessions.get(_digest(sid))
        return expires is not None and expires > time.time()

    def revoke(self, sid: str | None) -> None:
        if not sid:
            return
        with self._lock:
            self._reload()
            if self._sessions.pop(_digest(sid), None) is not None:
                self._save()

    # ---- persistence ----------------------------------------------------------------------
    def _reload(self) -> None:
        """Re-read the file when another process (or a restart) changed it."""
        if self.path is None:
            return
        try:
            st = self.path.stat()
        except OSError:
            self._sessions, self._stamp = {}, None
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self._sessions = {str(k): float(v) for k, v in raw.get("sessions", {}).items()}
        except (OSError, ValueError, AttributeError, TypeError):
            self._sessions = {}  # a corrupt file logs everyone out; it never lets anyone in
        self._stamp = stamp

    def _save(self) -> None:
        if self.path is None:
            return
        private_dir(self.path.parent)
        write_private(self.path, json.dumps({"sessions": self._sessions}).encode())
        try:
            st = self.path.stat()
            self._stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            self._stamp = None
