"""Remove the checkpoint refs of old runs (`agentctl checkpoints gc`).

Only refs under refs/harness/ are deleted. The snapshot objects become unreachable and git's own
`git gc` prunes them later (after gc.pruneExpire, two weeks by default); until then a mistaken
gc can be undone with `git fsck --lost-found`. The user's branches and reflogs are not touched.
"""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta

from pydantic import BaseModel

from harness_ls.errors import InvalidInput
from harness_ls.workspace.checkpoints import REF_PREFIX, _refs
from harness_ls.workspace.git import open_repo

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class GcReport(BaseModel):
    removed_runs: list[str] = []
    removed_refs: int = 0
    kept_runs: list[str] = []
    dry_run: bool = False


def parse_age(value: timedelta | float | int | str) -> float:
    """Seconds from a timedelta, a number of seconds, or text like "30d", "12h", "90m"."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float):
        return float(value)
    m = _AGE.match(value)
    if not m:
        raise InvalidInput(
            f"cannot read age {value!r}", hint='use a number and a unit: "30d", "12h", "90m", "0s"'
        )
    return float(m.group(1)) * _UNIT[m.group(2)]


def gc(
    workspace: str | os.PathLike[str],
    older_than: timedelta | float | int | str = "14d",
    *,
    keep: set[str] | frozenset[str] = frozenset(),
    dry_run: bool = False,
) -> GcReport:
    """Delete every ref of runs whose newest checkpoint is older than `older_than`.

    `keep` names runs never to remove (the caller passes runs still in progress).
    """
    repo = open_repo(workspace)
    cutoff = time.time() - parse_age(older_than)
    runs: dict[str, list[tuple[str, int]]] = {}
    for ref, _commit, _tree, ts, _msg in _refs(repo):
        parts = ref.split("/")
        if len(parts) >= 4:
            runs.setdefault(parts[2], []).append((ref, ts))
    report = GcReport(dry_run=dry_run)
    doomed: list[str] = []
    for run_id, refs in sorted(runs.items()):
        if run_id not in keep and max(ts for _, ts in refs) < cutoff:
            report.removed_runs.append(run_id)
            doomed += [ref for ref, _ in refs]
        else:
            report.kept_runs.append(run_id)
    report.removed_refs = len(doomed)
    if doomed and not dry_run:
        repo.run("update-ref", "--stdin", input="".join(f"delete {r}\n" for r in doomed).encode())
    return report


def delete_run(workspace: str | os.PathLike[str], run_id: str) -> int:
    """Remove all refs of one run; returns how many were removed."""
    repo = open_repo(workspace)
    refs = [ref for ref, *_ in _refs(repo, run_id)]
    if refs:
        repo.run("update-ref", "--stdin", input="".join(f"delete {r}\n" for r in refs).encode())
    return len(refs)


__all__ = ["GcReport", "gc", "delete_run", "parse_age", "REF_PREFIX"]
