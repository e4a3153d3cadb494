"""Snapshots around every mutating tool call, so each change has an owner.

The runtime calls `call_before` just before a write/edit/shell call runs and `call_after` just
after it; both snapshot the work tree into the workspace's shadow repository (see shadow.py) with
the run's private index. What differs between the two trees is the call's delta — the agent's
doing. Anything that changed between one call's after-snapshot and the next call's
before-snapshot was done by someone else (the user, their editor, a formatter on save) and is
never claimed. `step_checkpoint` marks step boundaries (and the end of the run) the same way.
Each payload returned here is recorded in the run's event log, so diff and revert can be
recomputed from the log alone.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from harness_ls.errors import InvalidInput
from harness_ls.workspace.shadow import Entry, Shadow, open_shadow
from harness_ls.workspace.snapshot import (
    DEFAULT_MAX_FILE_BYTES,
    SkippedFile,
    Snapshot,
    snapshot,
    snapshot_paths,
)

REF_PREFIX = "refs/harness"
FINAL = "final"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "Entry",
    "FINAL",
    "REF_PREFIX",
    "SkippedFile",
    "Snapshot",
    "call_after",
    "call_before",
    "step_checkpoint",
]


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise InvalidInput(
            f"run id {run_id!r} cannot name a checkpoint",
            hint="use letters, digits, '_' and '-' only (e.g. run_01J...)",
        )
    return run_id


def call_before(
    data_dir: str | os.PathLike[str],
    workspace: str | os.PathLike[str],
    run_id: str,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    paths: list[str] | None = None,
) -> dict[str, Any]:
    """The `checkpoint.before` payload: the tree just before a mutating tool call. `paths`:
    the call's own targets (a write/edit), taken even when git ignores them, so what the call
    does to them is the agent's delta (and revertable) like any other file."""
    shadow = open_shadow(data_dir, workspace)
    at = time.time()
    snap = snapshot(shadow, check_run_id(run_id), max_file_bytes=max_file_bytes, force=paths)
    return {
        "at": round(at, 3),
        "tree": snap.tree,
        "shadow": str(shadow.git_dir),
        "skipped": [s.path for s in snap.skipped],
        "warnings": snap.warnings,
    }


def call_after(
    data_dir: str | os.PathLike[str],
    workspace: str | os.PathLike[str],
    run_id: str,
    before: dict[str, Any],
    *,
    paths: list[str] | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> dict[str, Any]:
    """The `checkpoint.delta` payload: the after-tree and each path the call changed.

    `paths` is the call's whole footprint when the tool knows it (write/edit of one file):
    then only those paths are re-read, else the whole work tree is."""
    shadow = open_shadow(data_dir, workspace)
    index = check_run_id(run_id)
    snap = (
        snapshot_paths(shadow, index, paths, max_file_bytes=max_file_bytes) if paths else None
    ) or snapshot(
        shadow,
        index,
        max_file_bytes=max_file_bytes,
        force=paths,
        ignored_since=None if paths else _since(before),
    )
    files = shadow.changes(before["tree"], snap.tree)
    was_skipped = set(before.get("skipped") or [])
    out_of_tree = _not_data_dir(snap.ignored, data_dir, shadow.root)
    return {
        **({"ignored": out_of_tree} if out_of_tree else {}),
        "before": before["tree"],
        "after": snap.tree,
        "files": [f.model_dump() for f in files],
        "skipped": [s.model_dump() for s in snap.skipped if s.path not in was_skipped],
        "warnings": [w for w in snap.warnings if w not in (before.get("warnings") or [])],
    }


def _since(before: dict[str, Any]) -> float | None:
    """When the call started (its before-snapshot began; a little early: the file clock is coarse)."""
    at = before.get("at")
    return float(at) - 0.05 if isinstance(at, int | float) else None


def _not_data_dir(paths: list[str], data_dir: str | os.PathLike[str], root: Any) -> list[str]:
    """Ignored paths, less the harness's own data dir when it lies in the workspace."""
    data = os.path.realpath(data_dir)
    keep = []
    for rel in paths:
        full = os.path.realpath(os.path.join(root, rel.rstrip("/")))
        if full == data or full.startswith(data + os.sep) or data.startswith(full + os.sep):
            continue
        keep.append(rel)
    return keep


def step_checkpoint(
    data_dir: str | os.PathLike[str],
    workspace: str | os.PathLike[str],
    run_id: str,
    name: str,
    message: str = "",
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> dict[str, Any]:
    """The `checkpoint.created` payload: the tree at a step boundary (or `final`), kept on
    `refs/harness/<run_id>/<name>` in the shadow repository (never in the user's)."""
    shadow = open_shadow(data_dir, workspace)
    snap = snapshot(shadow, check_run_id(run_id), max_file_bytes=max_file_bytes)
    ref = f"{REF_PREFIX}/{run_id}/{name}"
    title = f"harness checkpoint {run_id}/{name}" + (f": {message}" if message else "")
    commit = shadow.commit(snap.tree, title + "\n", ref)
    return {
        "name": name,
        "tree": snap.tree,
        "commit": commit,
        "ref": ref,
        "message": title,
        "shadow": str(shadow.git_dir),
        "skipped": [s.path for s in snap.skipped],
        "warnings": snap.warnings,
    }


def live_tree(shadow: Shadow, run_id: str) -> str:
    """The work tree now, through a throwaway copy of the run's index (warm, and never racing
    a run that is still snapshotting with its own index)."""
    name = f"{check_run_id(run_id)}.live{os.getpid()}"
    try:
        return snapshot(shadow, name, seed=run_id).tree
    finally:
        shadow.index_path(name).unlink(missing_ok=True)
