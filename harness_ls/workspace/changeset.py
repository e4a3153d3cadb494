"""The agent's change set of a run, recomputed from its event log alone.

Each mutating tool call left `checkpoint.before` (tree before) and `checkpoint.delta` (tree after
and the paths it changed). The agent owns exactly the union of those deltas; every other change
(between calls, while waiting for an approval, after the run) is the user's: the log's snapshots
outside the calls — after-snapshots and step marks — bound the user's windows (`Gap`), and a path
that changed in one is the user's from then on, even when it ends as the agent left it (a deletion
looks the same whoever made it), so revert never mistakes the user's last word for the agent's. A
call whose
after-snapshot is missing (the process died mid-call) is resolved conservatively against the next
snapshot: a write/edit claims only the path it named, a shell call claims nothing and its paths
are reported as uncertain — never deleted.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.errors import NotFound
from harness_ls.workspace.checkpoints import FINAL, live_tree
from harness_ls.workspace.shadow import Entry, Shadow
from harness_ls.workspace.shadow import shadow_dir as shadow_dir_of

# Written by the harness itself while rendering diagrams; shown only when a tool call wrote them.
BOOKKEEPING = ("docs/diagrams/.hashes.json",)
HARNESS_TOOLS = ("render_diagrams", "relink_docs")


class CallDelta(BaseModel):
    call_id: str
    step_id: str | None
    tool: str
    before: str
    after: str | None  # None: not recorded and no later snapshot (resolved against the live tree)
    complete: bool  # the after-snapshot was recorded
    files: list[Entry] = []
    uncertain: list[str] = []  # changed during an unfinished call, owner unknown: left alone
    skipped: list[dict[str, Any]] = []
    ignored: list[str] = []  # git-ignored paths a shell call wrote: not in any snapshot


class Gap(BaseModel):
    """A window of the user's: between two snapshots with no tool call running. `window`: i
    when it ends at or before call i's before-snapshot (after call i-1), len(calls) after the
    last call (index into `RunChanges.calls`)."""

    window: int
    a: str
    b: str | None  # None: the live tree (the log ends outside a call and without `final`)


class StepMark(BaseModel):
    name: str  # "0", "1", ... or "final"
    step_id: str | None
    tree: str


class RunChanges(BaseModel):
    run_id: str
    workspace: str
    shadow_dir: str | None
    calls: list[CallDelta] = []
    marks: list[StepMark] = []
    live: str | None = None  # the live tree, when something had to be resolved against it
    gaps: list[Gap] = []

    def shadow(self) -> Shadow:
        if not self.shadow_dir:
            raise NotFound(f"run {self.run_id} recorded no checkpoints")
        return Shadow(Path(self.shadow_dir), Path(os.path.realpath(self.workspace)))

    def step_id(self, step: int) -> str | None:
        for m in self.marks:
            if m.name == str(step):
                return m.step_id
        order = list(dict.fromkeys(c.step_id for c in self.calls))
        if 1 <= step <= len(order):
            return order[step - 1]  # steps count from 1, as `agentctl attach` shows them
        have = [m.name for m in self.marks if m.name != FINAL] or [
            str(i) for i in range(1, len(order) + 1)
        ]
        raise NotFound(
            f"run {self.run_id} has no step {step}",
            hint=f"steps: {', '.join(have) or 'none'}",
        )

    def step_name(self, step_id: str | None) -> str:
        for m in self.marks:
            if m.step_id == step_id and m.name != FINAL:
                return m.name
        order = list(dict.fromkeys(c.step_id for c in self.calls))
        return str(order.index(step_id) + 1) if step_id in order else "?"

    def in_scope(self, step: int | None, call: str | None = None) -> list[CallDelta]:
        """The calls of the whole run, of step N, or the one tool call `call` (its id)."""
        if call is not None:
            found = [c for c in self.calls if c.call_id == call]
            if not found:
                ids = [c.call_id for c in self.calls if c.files or c.uncertain]
                raise NotFound(
                    f"{self.run_id} has no mutating tool call {call}",
                    hint="ids of the calls that changed files: "
                    + (", ".join(ids[-10:]) or "none")
                    + " (`agentctl diff` lists them)",
                )
            return found
        if step is None:
            return list(self.calls)
        sid = self.step_id(step)
        return [c for c in self.calls if c.step_id == sid]

    def chains(self, calls: list[CallDelta]) -> dict[str, list[Entry]]:
        """path -> the agent's deltas on it, in order."""
        out: dict[str, list[Entry]] = {}
        for c in calls:
            for f in c.files:
                out.setdefault(f.path, []).append(f)
        return out

    def ignored_paths(self) -> list[str]:
        """Git-ignored paths shell calls wrote, which no snapshot holds (never reverted)."""
        tracked = set(self.chains(self.calls))
        return sorted({p for c in self.calls for p in c.ignored} - tracked)

    def agent_paths(self, *, include_bookkeeping: bool = True) -> list[str]:
        paths = sorted(self.chains(self.calls))
        if include_bookkeeping:
            return paths
        real = {f.path for c in self.calls if c.tool not in HARNESS_TOOLS for f in c.files}
        return [p for p in paths if p not in BOOKKEEPING or p in real]

    def user_paths(self) -> list[str]:
        """Paths that changed between the agent's calls (or after them): the user's."""
        return sorted(self.user_changes())

    def user_changes(self, since: int = 0) -> dict[str, list[int]]:
        """path -> the windows (`Gap.window`) in which someone other than the agent changed it:
        a net change between two snapshots, a step mark being one. Windows before `since` are
        not looked at; the rest take one `diff-tree` in all."""
        gaps = [g for g in self.gaps if g.window >= since]
        if not gaps:
            return {}
        shadow = self.shadow()
        if any(g.b is None for g in gaps):
            self.live = self.live or live_tree(shadow, self.run_id)
        pairs = [(g.a, g.b or self.live or g.a) for g in gaps]
        seen: dict[str, list[int]] = {}
        for g, entries in zip(gaps, shadow.changes_many(pairs), strict=True):
            for e in entries:
                seen.setdefault(e.path, []).append(g.window)
        return seen


def user_gaps(snaps: list[tuple[str, str, str]]) -> list[Gap]:
    """The user's windows from the log's snapshots in order — (kind, call id or mark name,
    tree), kind "before" | "after" | "mark": from an after-snapshot or a mark to the next
    snapshot. A call with no after-snapshot (it crashed) ends at the next snapshot, which its
    delta is resolved against: no window there. Past the last snapshot: up to the live tree,
    unless the log ends with `final` (what the user does after the run is judged against the
    work tree) or holds no call."""
    gaps: list[Gap] = []
    start: str | None = None  # where the current window began; None inside a call
    open_call: str | None = None
    n = 0  # calls begun so far
    ended = False  # the last snapshot so far is `final`
    for kind, name, tree in snaps:
        if kind == "after":
            if name == open_call:
                open_call, start, ended = None, tree, False
            continue  # an after-snapshot of no open call (never logged so): not a window
        if open_call is None and start is not None:
            gaps.append(Gap(window=n, a=start, b=tree))
        if kind == "before":
            n, open_call, start = n + 1, name, None
        else:  # a step mark ends an unfinished call and starts a window
            open_call, start = None, tree
        ended = kind == "mark" and name == FINAL
    if n and open_call is None and start is not None and not ended:
        gaps.append(Gap(window=n, a=start, b=None))
    return gaps


def _data(ev: Any) -> dict[str, Any]:
    return getattr(ev, "data", None) or {}


def load_changes(
    data_dir: str | os.PathLike[str],
    workspace: str | os.PathLike[str],
    run_id: str,
    events: Iterable[Any],
) -> RunChanges:
    """Rebuild the run's change set from its events (see the module docstring)."""
    befores: dict[str, tuple[Any, dict[str, Any]]] = {}
    deltas: dict[str, dict[str, Any]] = {}
    call_args: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    timeline: list[tuple[str, str]] = []  # (call id or "", tree) of every snapshot, in log order
    snaps: list[tuple[str, str, str]] = []  # (kind, call id or mark name, tree), in log order
    marks: list[StepMark] = []
    shadow_dir: str | None = None
    for ev in events:
        d = _data(ev)
        if ev.type == "tool.call" and ev.call_id:
            call_args[ev.call_id] = d.get("arguments") or {}
        elif ev.type == "checkpoint.before" and ev.call_id:
            befores[ev.call_id] = (ev, d)
            order.append(ev.call_id)
            timeline.append((ev.call_id, d.get("tree") or ""))
            snaps.append(("before", ev.call_id, d.get("tree") or ""))
            shadow_dir = d.get("shadow") or shadow_dir
        elif ev.type == "checkpoint.delta" and ev.call_id:
            deltas[ev.call_id] = d
            if d.get("after"):
                snaps.append(("after", ev.call_id, d["after"]))
        elif ev.type == "checkpoint.created" and d.get("tree"):
            marks.append(StepMark(name=str(d.get("name")), step_id=ev.step_id, tree=d["tree"]))
            timeline.append(("", d["tree"]))
            snaps.append(("mark", str(d.get("name")), d["tree"]))
            shadow_dir = d.get("shadow") or shadow_dir
    changes = RunChanges(
        run_id=run_id, workspace=str(workspace), shadow_dir=shadow_dir, marks=marks,
        gaps=user_gaps(snaps),
    )  # fmt: skip
    if shadow_dir and not Path(shadow_dir).is_dir():
        here = shadow_dir_of(data_dir, workspace)
        if not here.is_dir():
            raise NotFound(
                f"the checkpoints of run {run_id} are gone ({shadow_dir} does not exist)",
                hint="they were deleted (data dir removed or moved); nothing can be diffed or reverted",
            )
        changes.shadow_dir = str(here)
    for call_id in order:
        ev, before = befores[call_id]
        d = deltas.get(call_id)
        tool = str(before.get("tool") or "")
        if d is not None:
            changes.calls.append(
                CallDelta(
                    call_id=call_id,
                    step_id=ev.step_id,
                    tool=tool,
                    before=before["tree"],
                    after=d.get("after"),
                    complete=True,
                    files=[Entry(**f) for f in d.get("files") or []],
                    skipped=list(d.get("skipped") or []),
                    ignored=list(d.get("ignored") or []),
                )  # fmt: skip
            )
            continue
        changes.calls.append(
            _resolve_unfinished(changes, call_id, ev, before, tool, timeline, call_args)
        )
    return changes


def _resolve_unfinished(
    changes: RunChanges,
    call_id: str,
    ev: Any,
    before: dict[str, Any],
    tool: str,
    timeline: list[tuple[str, str]],
    call_args: dict[str, dict[str, Any]],
) -> CallDelta:
    """A call with no after-snapshot: compare with the next snapshot the log has (or the live
    tree); a write/edit claims only its own path, anything else stays the user's."""
    shadow = changes.shadow()
    idx = next(i for i, (cid, _) in enumerate(timeline) if cid == call_id)
    nxt = next((tree for _, tree in timeline[idx + 1 :] if tree), None)
    if nxt is None:
        changes.live = changes.live or live_tree(shadow, changes.run_id)
        nxt = changes.live
    entries = shadow.changes(before["tree"], nxt)
    raw = str(call_args.get(call_id, {}).get("path") or "")
    target = posixpath.normpath(raw) if raw and not raw.startswith("/") else None
    mine = [e for e in entries if tool in ("write_file", "edit", "edit_file") and e.path == target]
    return CallDelta(
        call_id=call_id, step_id=ev.step_id, tool=tool, before=before["tree"], after=nxt,
        complete=False, files=mine, uncertain=[e.path for e in entries if e not in mine],
    )  # fmt: skip


def full_events(reader: Any) -> list[Any]:
    """A run's events with oversize checkpoint payloads loaded back from their artifacts
    (`reader` is a store EventStream; taken duck-typed to keep workspace/ a leaf)."""
    out = []
    for ev in reader.read():
        if (
            ev.type.startswith("checkpoint.")
            and isinstance(ev.data, dict)
            and "$artifact" in ev.data
        ):
            ev = ev.model_copy(update={"data": reader.load_data(ev)})
        out.append(ev)
    return out
