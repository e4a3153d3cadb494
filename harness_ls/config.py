"""Process-wide settings that every host shares: where the data dir is."""

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
