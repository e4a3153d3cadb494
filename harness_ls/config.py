"""Process-wide settings that every host shares: where the data dir is, and the one way every
host (agentd, harness-ls, agentctl's local commands, agentctl acp) loads `.env.local` / `.env`."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
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


def load_env(
    cwd: str | os.PathLike[str] | None = None,
    *,
    data_dir: Path | None = None,
    server: bool = True,
    warn: Callable[[str], None] | None = None,
) -> list[str]:
    """Load `.env.local` then `.env` from `cwd`; real environment variables win.

    The one loader of every host. `.env.local` beats `.env` for the same name. Values this
    function set earlier may be updated by a later call (a long-lived host re-reads the files,
    and harness-ls reads its workspace root's once the editor names it); values from the real
    environment are never touched. Until the user trusts a file (by path and sha256,
    harness_ls/trust.py) it may only set provider keys and HARNESS_MODEL: a cloned repository
    must not re-point a base URL, the data dir or PATH/LD_PRELOAD; each refusal goes to `warn`
    (default: the log). `server`: the caller serves runs (agentd, harness-ls), so the file may
    not set its auth token either. Secret-named values are registered for masking. Returns the
    names set (never values). python-dotenv is imported only when a file exists, so a host's
    cold start pays nothing for it otherwise.
    """
    base = Path(cwd) if cwd is not None else Path.cwd()
    if not any((base / name).exists() or (base / name).is_symlink() for name in ENV_FILES):
        return []
    from harness_ls.secrets import getenv, is_secret_name, register_secret, seal_environ, sealed
    from harness_ls.trust import dotenv_values

    merged, warnings = dotenv_values(base, data_dir or globals()["data_dir"](), server=server)
    for warning in warnings:
        if warn is not None:
            warn(warning)
        else:
            logging.getLogger("harness_ls.env").warning("%s", warning)
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
