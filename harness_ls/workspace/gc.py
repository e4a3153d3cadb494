"""Remove the checkpoint refs of old runs (`agentctl checkpoints gc`).

Refs live in the workspace's shadow repository under the data dir (refs/harness/<run>/...);
refs an older version left in the user's own repository are removed too. Only refs under
refs/harness/ are deleted, with each run's private index; the user's branches, reflogs and
stash are not touched. When refs were removed, the shadow repository is then pruned (`git gc
--prune`), so a removed run's snapshots stop taking space. Per-call snapshot trees are held by no
ref, only by the event logs that name them: the caller passes those trees (`pins`, per run or
session id) and every one of an owner that is not removed is pinned on `refs/harness-pin` before
the prune, so diff and revert of the kept runs and sessions still work afterwards.
"""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from harness_ls.errors import InvalidInput
from harness_ls.workspace.checkpoints import REF_PREFIX
from harness_ls.workspace.git import NotAGitRepo, open_repo
from harness_ls.workspace.shadow import Shadow, open_shadow, shadow_dir

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class GcReport(BaseModel):
    removed_runs: list[str] = []
    removed_refs: int = 0
    kept_runs: list[str] = []
    dry_run: bool = False
    pruned: bool = False  # the shadow repository's unreachable objects were deleted
    pinned_trees: int = 0


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


def _refs(repo: Any, run_id: str | None = None) -> list[tuple[str, int]]:
    """(ref, committer unix time) under refs/harness[/run_id]."""
    prefix = f"{REF_PREFIX}/{run_id}/" if run_id else f"{REF_PREFIX}/"
    out = repo.run("for-each-ref", "--format=%(refname) %(committerdate:unix)", prefix).stdout
    rows = []
    for line in out.decode(errors="replace").splitlines():
        ref, _, ts = line.rpartition(" ")
        rows.append((ref, int(ts or 0)))
    return rows


def _repos(workspace: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None) -> list[Any]:
    """The shadow repository (when the data dir has one) and the user's repo (legacy refs)."""
    repos: list[Any] = []
    if data_dir is not None and shadow_dir(data_dir, workspace).is_dir():
        repos.append(open_shadow(data_dir, workspace))
    try:
        repos.append(open_repo(workspace))
    except NotAGitRepo:
        if not repos:
            raise
    return repos


def gc(
    workspace: str | os.PathLike[str],
    older_than: timedelta | float | int | str = "14d",
    *,
    keep: set[str] | frozenset[str] = frozenset(),
    dry_run: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    pins: dict[str, set[str]] | None = None,
    prune: str = "now",
) -> GcReport:
    """Delete every ref of runs whose newest checkpoint is older than `older_than`, then prune
    the shadow repository's unreachable objects older than `prune` (a git date: "now",
    "1.hour.ago"), keeping the trees in `pins` of every owner not removed.

    `keep` names runs never to remove (the caller passes runs still in progress).
    """
    cutoff = time.time() - parse_age(older_than)
    runs: dict[str, list[tuple[Any, str, int]]] = {}
    for repo in _repos(workspace, data_dir):
        for ref, ts in _refs(repo):
            parts = ref.split("/")
            if len(parts) >= 4:
                runs.setdefault(parts[2], []).append((repo, ref, ts))
    report = GcReport(dry_run=dry_run)
    doomed: list[tuple[Any, str]] = []
    for run_id, refs in sorted(runs.items()):
        if run_id not in keep and max(ts for *_, ts in refs) < cutoff:
            report.removed_runs.append(run_id)
            doomed += [(repo, ref) for repo, ref, _ in refs]
        else:
            report.kept_runs.append(run_id)
    report.removed_refs = len(doomed)
    if doomed and not dry_run:
        for repo in {id(r): r for r, _ in doomed}.values():
            mine = "".join(f"delete {ref}\n" for r, ref in doomed if r is repo)
            repo.run("update-ref", "--stdin", input=mine.encode())
        for repo in {id(r): r for r, _ in doomed if isinstance(r, Shadow)}.values():
            for run_id in report.removed_runs:
                repo.index_path(run_id).unlink(missing_ok=True)
            if pins is None:
                continue  # without the logs' trees a prune would lose kept runs' snapshots
            gone = set(report.removed_runs)
            kept = {t for owner, trees in pins.items() if owner not in gone for t in trees}
            report.pinned_trees = _pin(repo, kept)
            repo.run("gc", "--quiet", f"--prune={prune}")
            report.pruned = True
            _drop_unknown_indexes(repo, set(pins) - gone)
    return report


PIN_REF = "refs/harness-pin"  # outside refs/harness/: not a run's


def _pin(shadow: Shadow, trees: set[str]) -> int:
    """Hold `trees` (those present in this shadow repo) on PIN_REF through one commit whose
    tree names each as a subtree; returns how many. No trees: the pin is dropped."""
    wanted = sorted(t for t in trees if re.fullmatch(r"[0-9a-f]{40,64}", t))
    present: list[str] = []
    if wanted:
        out = shadow.run(
            "cat-file",
            "--batch-check=%(objectname) %(objecttype)",
            input="\n".join(wanted).encode(),
        ).stdout.decode()
        present = [line.split()[0] for line in out.splitlines() if line.endswith(" tree")]
    if not present:
        shadow.run("update-ref", "-d", PIN_REF, check=False)
        return 0
    listing = "".join(f"040000 tree {sha}\t{n}\n" for n, sha in enumerate(present))
    holder = shadow.out("mktree", input=listing.encode())
    shadow.commit(holder, "harness: snapshot trees still named by run and session logs\n", PIN_REF)
    return len(present)


def _drop_unknown_indexes(shadow: Shadow, owners: set[str]) -> None:
    """A private index of an owner with no log may name pruned blobs: a new run seeding from it
    would write trees with holes. Dropping it costs one cold re-hash, nothing else."""
    folder = shadow.index_path("x").parent
    for path in folder.iterdir() if folder.is_dir() else ():
        name = path.name
        throwaway = "." in name or name.startswith("combined")  # a live diff's, not an owner's
        if path.is_file() and not throwaway and name not in owners:
            path.unlink(missing_ok=True)


def log_trees(events: Any) -> set[str]:
    """Every snapshot tree a run's or session's log names (what its diff and revert read)."""
    out: set[str] = set()
    for ev in events:
        if not str(ev.type).startswith("checkpoint."):
            continue
        d = ev.data if isinstance(ev.data, dict) else {}
        out |= {d[k] for k in ("tree", "before", "after") if isinstance(d.get(k), str)}
    return out


def delete_run(
    workspace: str | os.PathLike[str], run_id: str, data_dir: str | os.PathLike[str] | None = None
) -> int:
    """Remove all refs of one run; returns how many were removed."""
    total = 0
    for repo in _repos(workspace, data_dir):
        refs = [ref for ref, _ in _refs(repo, run_id)]
        if refs:
            repo.run("update-ref", "--stdin", input="".join(f"delete {r}\n" for r in refs).encode())
        total += len(refs)
    return total


__all__ = ["GcReport", "PIN_REF", "gc", "delete_run", "log_trees", "parse_age", "REF_PREFIX"]
