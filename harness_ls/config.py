"""Process-wide settings that every host shares: where the data dir is, and the one way every
host (agentd, harness-ls, agentctl's local commands, agentctl acp) loads `.env.local` / `.env`."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data dir: explicit argument, else HARNESS_DATA_DIR, else ~/.agent-harness."""
    raw = explicit or os.environ.get("HARNESS_DATA_DIR") or "~/.agent-harness"
    return Path(raw).expanduser().resolve()


def ensure_data_dir(path: Path) -> Path:
    """Create the data dir owner-only (0700); an existing one is left as it is (hosts warn)."""
    from harness_ls.private import private_dir

    return private_dir(path)


ENV_FILES = (".env", ".env.local")  # later wins
_loaded_by_us: dict[str, str] = {}  # keys load_env set, so a later load_env may update them


def load_env(cwd: str | os.PathLike[str] | None = None) -> list[str]:
    """Load `.env.local` then `.env` from `cwd`; real environment variables win.

    The one loader of every host. `.env.local` beats `.env` for the same name. Values this
    function set earlier may be updated by a later call (a long-lived host re-reads the files,
    and harness-ls reads its workspace root's once the editor names it); values from the real
    environment are never touched. Secret-named values are registered for masking. Returns the
    names set (never values). python-dotenv is imported only when a file exists, so a host's
    cold start pays nothing for it otherwise.
    """
    from harness_ls.secrets import getenv, is_secret_name, register_secret, seal_environ, sealed

    base = Path(cwd) if cwd is not None else Path.cwd()
    files = [base / name for name in ENV_FILES if (base / name).is_file()]
    if not files:
        return []
    from dotenv import dotenv_values

    merged: dict[str, str] = {}
    for path in files:
        try:
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        except (OSError, UnicodeDecodeError) as exc:  # unreadable: said on stderr, never fatal
            import logging

            logging.getLogger("harness_ls.config").warning("cannot read %s: %s", path, exc)
    set_names: list[str] = []
    for key, value in merged.items():
        current = getenv(key)
        if current is not None and _loaded_by_us.get(key) != current:
            continue  # the real environment wins
        os.environ[key] = value
        _loaded_by_us[key] = value
        set_names.append(key)
        if is_secret_name(key):
            register_secret(value)
    if sealed():  # a long-lived host already moved its secrets out of the environment
        seal_environ()
    return set_names
