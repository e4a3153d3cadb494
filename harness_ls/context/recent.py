"""Files the user is working on right now, from git: uncommitted changes and the last commits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness_ls.errors import HarnessError
from harness_ls.gitrun import workspace_git

RECENT_COMMITS = 5


def _git(root: Path, *args: str) -> str:
    try:
        out = workspace_git(root).run(*args, timeout=5)
    except (OSError, subprocess.TimeoutExpired, HarnessError):
        return ""
    return os.fsdecode(out.stdout) if out.returncode == 0 else ""


def recent_files(root: Path, *, commits: int = RECENT_COMMITS) -> dict[str, float]:
    """rel path -> weight: 1.0 for uncommitted changes, less for older commits' files."""
    weights: dict[str, float] = {}
    status = _git(root, "status", "--porcelain", "-z", "--untracked-files=normal")
    for item in status.split("\0"):
        if len(item) > 3 and item[2] == " ":
            weights[item[3:]] = 1.0
    log = _git(root, "log", f"-n{commits}", "--no-merges", "--name-only", "--format=%x00")
    for age, block in enumerate(b for b in log.split("\0") if b.strip()):
        names = [n for n in block.splitlines() if n.strip()]
        if not names or len(names) > 50:  # sweeping commits say little about focus
            continue
        w = 0.6 / (age + 1) / max(1.0, len(names) ** 0.5)
        for name in names:
            weights[name] = max(weights.get(name, 0.0), w)
    return weights
