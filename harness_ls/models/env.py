"""Environment loading (.env.local, .env) and the one place secrets get masked.

Everything that leaves the process (events, logs, exports, error messages) should pass
through `mask_secrets`, which hides the values of secret-looking environment variables,
values registered with `register_secret`, and anything shaped like a provider key.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from harness_ls.secrets import (  # noqa: F401 - re-exported: models.mask_secrets is public
    MASK,
    SecretMaskingFilter,
    getenv,
    install_log_masking,
    is_secret_name,
    mask_secrets,
    register_secret,
    seal_environ,
    sealed,
)

log = logging.getLogger("harness_ls.env")
_loaded_by_us: dict[str, str] = {}  # keys load_env set, so a later load_env may update them


def load_env(
    cwd: Path | None = None, *, data_dir: Path | None = None, server: bool = True
) -> list[str]:
    """Load `.env.local` then `.env` from `cwd`; real environment variables win.

    `.env.local` beats `.env` for the same name. Values this function set earlier may be
    updated by a later call (so a long-lived host can re-read the files); values that came
    from the real environment are never touched. Until the user trusts a file (by path and
    sha256, harness_ls/trust.py) it may only set provider keys and HARNESS_MODEL: a cloned
    repository must not re-point a base URL, the data dir or PATH/LD_PRELOAD (each ignored
    name is logged as a warning). `server`: the caller serves runs (agentd, harness-ls), so the
    file may not set its auth token either. Returns the names set (never values).
    """
    from harness_ls.config import data_dir as default_data_dir
    from harness_ls.trust import dotenv_values

    base = Path(cwd) if cwd is not None else Path.cwd()
    merged, warnings = dotenv_values(base, data_dir or default_data_dir(), server=server)
    for warning in warnings:
        log.warning("%s", warning)
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
