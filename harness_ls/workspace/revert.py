"""Undo the agent's deltas of a run (or of one step) and nothing else.

Per path the agent touched (its deltas d1..dn, from the event log): the target is the content
before the agent's first change — or, when the user edited the file between two of the agent's
calls, the user's last version (the agent's changes after it are undone, the user's kept). The
work tree's current content decides: equal to the agent's last write → write the target; equal to
the target → nothing to do (a second revert is a no-op); anything else means the user changed it
after the agent → a conflict, kept as is and reported (`force=True` overwrites it). Paths the
agent never touched are never read for writing. Before any write, the current tree is saved on
`refs/harness/<run_id>/pre-revert-<time>` in the shadow repository (not in the user's refs).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

import harness_ls.nofollow as nofollow
from harness_ls.errors import Refused
from harness_ls.workspace.changeset import RunChanges, load_changes
from harness_ls.workspace.checkpoints import REF_PREFIX, live_tree
from harness_ls.workspace.safepath import unwritable
from harness_ls.workspace.shadow import GITLINK, Entry

Action = Literal["restored", "deleted", "unchanged", "conflict", "forced", "skipped"]
State = tuple[str, str] | None  # (blob id, mode) or absent


class FileOutcome(BaseModel):
    path: str
    action: Action
    detail: str = ""


class RevertReport(BaseModel):
    run_id: str
    step: int | None
    call: str | None = None
    ok: bool  # no conflicts left
    applied: bool  # files were written
    dry_run: bool = False
    files: list[FileOutcome] = []
    safety_ref: str | None = None
    shadow: str | None = None

    @property
    def conflicts(self) -> list[FileOutcome]:
        return [f for f in self.files if f.action == "conflict"]

    @property
    def noop(self) -> bool:
        return all(f.action in ("unchanged", "skipped") for f in self.files)

    def summary(self) -> str:
        what = f"run {self.run_id}" + (f" step {self.step}" if self.step is not None else "")
        what += f" call {self.call}" if self.call else ""
        if not self.files:
            return f"nothing to revert: the agent changed no files in {what}"
        if not self.applied and not self.dry_run and self.conflicts:
            lines = [f"nothing to revert in {what} without --force:"]
            lines += [f"  {f.action:9} {f.path} — {f.detail}" for f in self.files]
            lines.append(
                f"{len(self.conflicts)} conflict(s) kept as you left them; "
                "retry with --force to overwrite them with the pre-agent content"
            )
            return "\n".join(lines)
        if self.noop and not self.conflicts:
            lines = [f"nothing to revert: the agent's changes in {what} are already undone"]
            lines += [
                f"  {f.action:9} {f.path} — {f.detail}" for f in self.files if f.action == "skipped"
            ]
            return "\n".join(lines)
        verb = "would revert" if self.dry_run else "revert"
        lines = [f"{verb} {what}"]
        lines += [
            f"  {f.action:9} {f.path}" + (f" — {f.detail}" if f.detail else "") for f in self.files
        ]
        if self.conflicts:
            lines.append(
                f"{len(self.conflicts)} conflict(s) kept as you left them; "
                "retry with --force to overwrite them with the pre-agent content"
            )
        if self.safety_ref:
            lines.append(
                f"the tree before this revert is saved as {self.safety_ref}\n"
                f"  get a file back: git --git-dir {self.shadow} show {self.safety_ref}:<path>"
            )
        return "\n".join(lines)


def _state(sha: str | None, mode: str | None) -> State:
    return (sha, mode or "100644") if sha else None


def plan_path(
    chain: list[Entry],
    later: bool,
    cur: State,
    force: bool,
    one_call: bool = False,
    user: frozenset[int] = frozenset(),
) -> tuple[FileOutcome, State]:
    """What to do with one path: (outcome, target state to write or None to delete).
    `user`: the chain positions j before which someone else changed the path (between the
    agent's calls j-1 and j, even when it ended up as the agent had left it: re-created, then
    deleted again); position len(chain) means after the agent's last call — theirs, kept."""
    path = chain[0].path
    bad = unwritable(path)
    if bad:
        return FileOutcome(path=path, action="skipped", detail=f"{bad}; not reverted"), None
    start = 0
    for j in range(1, len(chain)):
        if j in user or _state(chain[j].before, chain[j].before_mode) != _state(
            chain[j - 1].after, chain[j - 1].after_mode
        ):
            start = j  # the user changed it between two agent calls: their version is the target
    user_after = len(chain) in user
    target = _state(chain[start].before, chain[start].before_mode)
    last = _state(chain[-1].after, chain[-1].after_mode)
    if GITLINK in (chain[0].before_mode, chain[-1].after_mode):
        return FileOutcome(path=path, action="skipped", detail="a submodule; not reverted"), None
    note = " (your edit between the agent's calls kept)" if start else ""
    if cur == target:
        return FileOutcome(
            path=path, action="unchanged", detail="already as before the agent"
        ), None
    if cur == last and not later and not user_after:
        if target is None:
            made = "created by the agent" + (" after you deleted it" if start else "")
            return FileOutcome(path=path, action="deleted", detail=made), None
        return FileOutcome(path=path, action="restored", detail=note.strip(" ()")), target
    why = (
        "the agent changed it again in a later call; revert that call first, or the whole run"
        if later and one_call
        else "the agent changed it again in a later step; revert the whole run instead"
        if later
        else "you deleted it after the agent changed it"
        if cur is None
        else "you changed it after the agent did"
    )
    if force:
        return FileOutcome(
            path=path, action="forced", detail=why + "; overwritten (--force)"
        ), target
    return FileOutcome(path=path, action="conflict", detail=why + "; kept as is"), None


def _user_between(
    changes: RunChanges, chains: dict[str, list[Entry]], ids: set[str]
) -> dict[str, frozenset[int]]:
    """path -> the chain positions j before which someone else changed it (see plan_path)."""
    at: dict[str, list[int]] = {}  # path -> the call index of each of its chain entries
    for i, c in enumerate(changes.calls):
        if c.call_id in ids:
            for f in c.files:
                at.setdefault(f.path, []).append(i)
    if not at:
        return {}
    windows = changes.user_changes(since=min(v[0] for v in at.values()) + 1)
    out: dict[str, frozenset[int]] = {}
    for p, idx in at.items():
        hits = windows.get(p, ())
        marks = {j for j in range(1, len(idx)) if any(idx[j - 1] < w <= idx[j] for w in hits)}
        if any(w > idx[-1] for w in hits):
            marks.add(len(idx))
        if marks:
            out[p] = frozenset(marks)
    return out


def _current(changes: RunChanges, paths: list[str]) -> tuple[str, dict[str, State]]:
    shadow = changes.shadow()
    tree = changes.live or live_tree(shadow, changes.run_id)
    changes.live = tree
    raw = shadow.run("ls-tree", "-r", "-z", "--full-tree", tree).stdout
    want = set(paths)
    out: dict[str, State] = dict.fromkeys(paths)
    for rec in filter(None, raw.split(b"\0")):
        meta, _, p = rec.partition(b"\t")
        path = os.fsdecode(p)
        if path in want:
            mode, _kind, sha = meta.decode().split(" ")
            out[path] = (sha, mode)
    return tree, out


def _remove_empty_folders(real_root: str, rel_dir: str) -> None:
    """Remove the folders of `rel_dir` that are now empty, deepest first, by descriptors: a folder
    swapped for a link meanwhile is not followed (by name, an empty folder out of the workspace
    was removed), and the first one that is not an empty folder ends the walk."""
    parts = [] if rel_dir == "." else rel_dir.split(os.sep)
    for depth in range(len(parts), 0, -1):
        try:
            dfd = nofollow.open_dir(os.path.join(real_root, *parts[: depth - 1]))
        except (OSError, nofollow.LinkOnTheWay):
            return
        try:
            os.rmdir(parts[depth - 1], dir_fd=dfd)  # a link: ENOTDIR; not empty: ENOTEMPTY
        except OSError:
            return
        finally:
            os.close(dfd)


def write_state(root: Path, rel: str, data: bytes | None, mode: str) -> None:
    bad = unwritable(rel)
    if bad:
        raise Refused(f"refusing to write {rel}: {bad}")
    target = root / rel
    parent = target.parent
    # realpath also resolves a link among the ancestors of a folder that does not exist yet
    # (`src -> /elsewhere` made after `src/x/y.py` was deleted): mkdir would follow it
    real_parent, real_root = os.path.realpath(parent), os.path.realpath(root)
    if os.path.commonpath([real_parent, real_root]) != real_root:
        raise Refused(f"refusing to write {rel}: its directory leads outside {root}")
    if data is None:
        try:
            dfd = nofollow.open_dir(real_parent)
        except (FileNotFoundError, nofollow.LinkOnTheWay):
            return  # nothing there to delete, or the folder is a link now: nothing of ours
        try:
            os.unlink(target.name, dir_fd=dfd)
        except FileNotFoundError:
            pass
        finally:
            os.close(dfd)
        _remove_empty_folders(real_root, os.path.relpath(real_parent, real_root))
        return
    try:  # by descriptors from here on: a folder swapped for a link now is not followed
        if mode != "120000":
            nofollow.replace_in(real_parent, target.name, data,
                                0o755 if mode == "100755" else 0o644)  # fmt: skip
            return
        dfd = nofollow.open_dir(real_parent, create=True)
        try:
            try:
                os.unlink(target.name, dir_fd=dfd)
            except FileNotFoundError:
                pass
            os.symlink(os.fsdecode(data), target.name, dir_fd=dfd)
        finally:
            os.close(dfd)
    except nofollow.LinkOnTheWay as exc:
        raise Refused(f"refusing to write {rel}: {exc.strerror} (it changed during the revert)",
                      hint="make the folder a real folder inside the workspace and revert again"
                      ) from None  # fmt: skip


def revert(
    data_dir: str | os.PathLike[str],
    workspace: str | os.PathLike[str],
    run_id: str,
    events: Iterable[Any],
    step: int | None = None,
    *,
    force: bool = False,
    dry_run: bool = False,
    call: str | None = None,
) -> RevertReport:
    """Undo the agent's changes of the run (or step N, or the one tool call `call`); see the
    module docstring: the same three-way rules at every scope."""
    changes = load_changes(data_dir, workspace, run_id, events)
    report = RevertReport(
        run_id=run_id, step=step, call=call, ok=True, applied=False, dry_run=dry_run
    )
    scope = changes.in_scope(step, call)
    chains = changes.chains(scope)
    ids = {c.call_id for c in scope}
    after_scope = False
    later_paths: set[str] = set()
    for c in changes.calls:
        if c.call_id in ids:
            after_scope = True
        elif after_scope:
            later_paths |= {f.path for f in c.files}
    skipped = {s["path"]: s for c in scope for s in c.skipped if "path" in s}
    uncertain = sorted({p for c in scope for p in c.uncertain} - set(chains))
    if not chains and not skipped and not uncertain:
        return report
    report.shadow = changes.shadow_dir
    tree, current = _current(changes, sorted(chains)) if chains else ("", {})
    partial = step is not None or call is not None
    user = _user_between(changes, chains, ids)
    planned = [
        plan_path(chains[p], partial and p in later_paths, current.get(p), force,
                  call is not None, user.get(p, frozenset()))
        for p in sorted(chains)
    ]  # fmt: skip
    report.files = [o for o, _ in planned]
    report.files += [
        FileOutcome(path=p, action="skipped", detail=f"{s.get('reason', 'too large')}: not "
                    "snapshotted, so not reverted; delete it yourself if unwanted")
        for p, s in sorted(skipped.items()) if p not in chains
    ]  # fmt: skip
    report.files += [
        FileOutcome(path=p, action="skipped", detail="changed during a tool call whose end was "
                    "not recorded (crash); owner unknown, left as is")
        for p in uncertain
    ]  # fmt: skip
    report.ok = not report.conflicts
    writes = [(o, t) for o, t in planned if o.action in ("restored", "deleted", "forced")]
    if dry_run or not writes:  # nothing to write: no pre-revert ref (a standing conflict stays)
        return report
    shadow = changes.shadow()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    report.safety_ref = f"{REF_PREFIX}/{run_id}/pre-revert-{stamp}"
    shadow.commit(tree, f"harness: work tree before reverting {run_id}\n", report.safety_ref)
    wanted = [(t[0], o.path) for o, t in writes if t is not None]
    blobs = dict(zip((p for _, p in wanted), shadow.blobs(wanted), strict=True))
    for outcome, target in writes:
        if target is None:
            write_state(shadow.root, outcome.path, None, "")
        else:
            write_state(shadow.root, outcome.path, blobs[outcome.path], target[1])
    report.applied = bool(writes)
    return report
