"""The agent's change set as host verbs: diff, revert, checkpoints gc (issue 33).

One owner for what the daemon (`/v1/runs/{id}/diff`) and the CLI (`agentctl diff/revert/
checkpoints gc`) show and do, so both give the same diff for the same run: the per-call
checkpoints when the run has them, else the diffs its events carry (approved previews, tool
results). Hosts map the errors (HarnessError) to their own surface.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from harness_ls.errors import HarnessError
from harness_ls.store import RunStore
from harness_ls.store.lock import is_locked
from harness_ls.workspace import GcReport, RevertReport, combined_diff, gc, load_changes, revert
from harness_ls.workspace import RunDiff as CallDiffs
from harness_ls.workspace import run_diff as _call_diffs
from harness_ls.workspace.changeset import full_events
from harness_ls.workspace.gc import log_trees

LIVE_STATUSES = ("created", "running", "waiting_approval")
PathLike = str | os.PathLike[str]

__all__ = [
    "LIVE_STATUSES",
    "CallDiffs",
    "GcReport",
    "RevertReport",
    "RunDiff",
    "agent_diff",
    "call_diffs",
    "events_diff",
    "gc_checkpoints",
    "has_checkpoints",
    "kind_of",
    "live_status",
    "log_events",
    "log_meta",
    "log_pins",
    "revert_changes",
    "run_agent_diff",
    "store_of",
]


class RunDiff(BaseModel):
    """The agent's whole change set as one diff, and where it came from."""

    run_id: str
    diff: str
    source: Literal["checkpoints", "events"]


def kind_of(owner_id: str) -> str:
    """ "session" for a chat session's id (ses_...), else "run": both are checkpointed alike."""
    return "session" if owner_id.startswith("ses") else "run"


def store_of(data_dir: PathLike) -> RunStore:
    return RunStore(data_dir)


def log_meta(store: Any, owner_id: str) -> Any:
    """The run's (or session's) meta; raises NotFound / InvalidInput for an unknown id."""
    return store.get(kind_of(owner_id), owner_id)


def log_events(store: Any, owner_id: str) -> list[Any]:
    """The log's events with oversize checkpoint payloads loaded back from their artifacts."""
    return full_events(store.reader(kind_of(owner_id), owner_id))


def has_checkpoints(events: Iterable[Any]) -> bool:
    return any(e.type == "checkpoint.before" for e in events)


def events_diff(events: Iterable[Any]) -> str:
    """Diffs of approved writes (approval previews) and of tool results, in order: the diff of
    a run that has no checkpoints."""
    previews: dict[str, str] = {}
    parts: list[str] = []
    for ev in events:
        data = ev.data or {}
        if ev.type == "approval.requested":
            diff = (data.get("preview") or {}).get("diff")
            if isinstance(diff, str):
                previews[data.get("approval_id") or ev.step_id or ""] = diff
        elif ev.type == "approval.resolved" and data.get("decision") == "approve":
            diff = previews.pop(data.get("approval_id") or ev.step_id or "", None)
            if diff:
                parts.append(diff if diff.endswith("\n") else diff + "\n")
        elif ev.type == "tool.result":
            diff = (data.get("data") or {}).get("diff")
            if isinstance(diff, str) and diff not in parts:
                parts.append(diff if diff.endswith("\n") else diff + "\n")
    return "".join(parts)


def agent_diff(
    data_dir: PathLike,
    run_id: str,
    workspace: PathLike,
    events: list[Any],
) -> RunDiff:
    """One diff of the agent's files (harness bookkeeping left out) from the checkpoints; a run
    without them, or whose checkpoints are gone, falls back to the diffs its events carry."""
    if has_checkpoints(events):
        try:
            text = combined_diff(load_changes(data_dir, workspace, run_id, events))
            return RunDiff(run_id=run_id, diff=text, source="checkpoints")
        except HarnessError:  # checkpoints deleted, shadow repository unreadable
            pass
    return RunDiff(run_id=run_id, diff=events_diff(events), source="events")


def run_agent_diff(store: Any, data_dir: PathLike, run_id: str) -> RunDiff:
    """`agent_diff` for a run read from `store` (the daemon's view: the recorded workspace)."""
    meta = log_meta(store, run_id)
    return agent_diff(data_dir, run_id, meta.workspace, log_events(store, run_id))


# The agent's changes per call (whole run, step N, or one call) and the user's paths: the
# workspace's own function, exposed as the verb hosts call.
call_diffs = _call_diffs


def live_status(store: Any, owner_id: str) -> str | None:
    """The status that makes reverting unsafe now, else None. A run is live while its writer
    holds the log's lock (a run whose process died left a final log); a chat session only while
    a turn runs."""
    if kind_of(owner_id) == "session":
        status = store.get("session", owner_id).status
        return status if status == "running" else None
    status = store.get("run", owner_id).status
    alive = is_locked(store.stream_dir("run", owner_id) / ".lock")
    return status if alive and status in LIVE_STATUSES else None


# Undo the agent's changes (whole run, step N or one call); the caller checks `live_status` first.
revert_changes = revert


def log_pins(store: Any, ws: Path) -> dict[str, set[str]]:
    """The snapshot trees each run's and session's log in this workspace names (kept by gc)."""
    pins: dict[str, set[str]] = {}
    for kind in ("run", "session"):
        for meta in store.list(kind):
            if Path(meta.workspace or "").resolve() == ws.resolve():
                pins[meta.id] = log_trees(full_events(store.reader(kind, meta.id)))
    return pins


def gc_checkpoints(
    data_dir: PathLike, ws: Path, older_than: Any, *, dry_run: bool = False
) -> GcReport:
    """Remove old checkpoint refs of this workspace, keeping live runs and every tree a log
    names. With live work the shadow repository prunes only objects older than an hour."""
    keep: set[str] = set()
    pins: dict[str, set[str]] | None = None
    busy = False
    try:
        store = store_of(data_dir)
        for status in LIVE_STATUSES:
            keep |= {m.id for m in store.list("run", status=status)}
        busy = bool(keep) or bool(store.list("session", status="running"))
        pins = log_pins(store, ws)
    except Exception:  # noqa: BLE001 - no local store: only age decides, and nothing is pruned
        pass
    return gc(ws, older_than, keep=keep, dry_run=dry_run, data_dir=data_dir,
              pins=pins, prune="1.hour.ago" if busy else "now")  # fmt: skip
