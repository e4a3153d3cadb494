"""The default auth token: generated once, kept owner-only in the data dir, shared by the hosts.

With no `HARNESS_AUTH_TOKEN`, agentd and the harness-ls sidecar use `<data_dir>/auth/token`
(created 0600 in a 0700 folder on first start, reused on every restart); `agentctl` and the VS
Code extension, running as the same user, read it from there, so nothing needs configuring and
another local user — who cannot read the file — gets 401 everywhere.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from harness_ls.private import open_private, private_dir

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits


def auth_dir(data_dir: Path) -> Path:
    return data_dir / "auth"


def token_path(data_dir: Path) -> Path:
    return auth_dir(data_dir) / "token"


def env_token() -> str | None:
    from harness_ls.secrets import getenv  # a host has moved it out of os.environ by now

    token = (getenv("HARNESS_AUTH_TOKEN") or "").strip()
    return token or None


def read_token_file(data_dir: Path) -> str | None:
    """The stored token, or None when there is none (or it cannot be read)."""
    try:
        text = token_path(data_dir).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return first or None


def load_or_create_token(data_dir: Path) -> str:
    """The stored token; generated on first use. Two hosts starting together agree on one.

    The new token goes to a private temp file that is then hard-linked into place: `link` fails
    when the other host won the race, and then we read its token.
    """
    existing = read_token_file(data_dir)
    if existing:
        return existing
    folder = private_dir(auth_dir(data_dir))
    path = token_path(data_dir)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    tmp = folder / f".token.{os.getpid()}.{secrets.token_hex(4)}"
    fd = open_private(tmp, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            theirs = read_token_file(data_dir)
            if theirs:
                return theirs
            os.replace(tmp, path)  # an empty leftover file: ours replaces it
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return token


def host_token(data_dir: Path) -> tuple[str, str]:
    """(token, where it came from) for a host: HARNESS_AUTH_TOKEN, else the data dir's file."""
    from harness_ls.secrets import register_secret

    token = env_token()
    if token:
        register_secret(token)
        return token, "HARNESS_AUTH_TOKEN"
    token = load_or_create_token(data_dir)
    register_secret(token)  # masked like a key wherever it would show up (a command cat-ing it)
    return token, str(token_path(data_dir))


def client_token(data_dir: Path) -> tuple[str | None, str]:
    """(token, source) for a client: HARNESS_AUTH_TOKEN, else the data dir's file, else None."""
    token = env_token()
    if token:
        return token, "HARNESS_AUTH_TOKEN"
    stored = read_token_file(data_dir)
    if stored:
        return stored, str(token_path(data_dir))
    return None, "none"
