"""A remote run's result, brought home: into the work tree, or onto a branch.

Into the work tree: the three-way rule of revert, run forwards. Per path the agent changed, the
user's file now is compared with the state the agent started from and the state it left: equal to
the start → the agent's version is written; equal to the end → nothing to do; anything else means
the user edited it meanwhile → a conflict, kept as the user left it (the agent's version stays on
`refs/harness/<run>/final` in the shadow repository). Paths the agent never touched are never
written. With `branch`, the work tree is left alone: `harness/<run_id>` gets the result instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.errors import InvalidInput
from harness_ls.tools.protected import protected_reason, secret_reason
from harness_ls.workspace.changeset import load_changes
from harness_ls.workspace.checkpoints import REF_PREFIX, live_tree
from harness_ls.workspace.git import IDENTITY, open_repo
from harness_ls.workspace.revert import FileOutcome, write_state
from harness_ls.workspace.safepath import unwritable
from harness_ls.workspace.shadow import GITLINK, Entry, Shadow
from harness_ls.workspace.snapshot import DEFAULT_MAX_FILE_BYTES

State = tuple[str, str] | None


class ApplyReport(BaseModel):
    run_id: str
    ok: bool = True  # no conflicts
    files: list[FileOutcome] = []
    branch: str | None = None
    commit: str | None = None
    shadow: str | None = None

    @property
    def conflicts(self) -> list[FileOutcome]:
        return [f for f in self.files if f.action == "conflict"]

    def summary(self) -> str:
        if self.branch:
            return f"the run's changes are on branch {self.branch} ({(self.commit or '')[:12]}); your work tree is untouched"
        if not self.files:
            return "the agent changed no files"
        applied = sum(1 for f in self.files if f.action in ("restored", "deleted"))
        text = f"applied {applied} file(s) to the work tree"
        held = [f.path for f in self.files if f.action == "skipped" and "never applied" in f.detail]
        if held:
            text += (
                f"; {len(held)} path(s) not applied (protected, or larger than a snapshot "
                f"holds): {', '.join(held[:5])}"
            )
        if self.conflicts:
            names = ", ".join(f.path for f in self.conflicts[:5])
            text += (
                f"; {len(self.conflicts)} kept as you left them (you edited them meanwhile): "
                f"{names}; the agent's versions: git --git-dir {self.shadow} show "
                f"{REF_PREFIX}/{self.run_id}/final:<path>"
            )
        return text


def _state(sha: str | None, mode: str | None) -> State:
    return (sha, mode or "100644") if sha else None


def refused_reason(path: str) -> str | None:
    """Why a worker's version of `path` is never written here: the tree came from another trust
    zone, so what a local run may only change with your approval (git metadata, `.harness/`,
    `.env*`, editor settings, key files) or anything not a plain path below the workspace."""
    return unwritable(path) or protected_reason(path) or secret_reason(path)


def plan_forward(chain: list[Entry], cur: State) -> tuple[FileOutcome, State, bool]:
    """(outcome, state to write, whether to write) for one path the agent changed."""
    path = chain[0].path
    bad = refused_reason(path)
    if bad:
        detail = f"{bad}: a remote run's version is never applied; copy it from the run yourself"
        return FileOutcome(path=path, action="skipped", detail=detail), None, False
    start = _state(chain[0].before, chain[0].before_mode)
    end = _state(chain[-1].after, chain[-1].after_mode)
    if GITLINK in (chain[0].before_mode, chain[-1].after_mode):
        return (
            FileOutcome(path=path, action="skipped", detail="a submodule; not applied"),
            None,
            False,
        )
    if cur == end:
        return (
            FileOutcome(path=path, action="unchanged", detail="already as the agent left it"),
            None,
            False,
        )
    if cur == start:
        if end is None:
            return (
                FileOutcome(path=path, action="deleted", detail="deleted by the agent"),
                None,
                True,
            )
        return FileOutcome(path=path, action="restored", detail="the agent's version"), end, True
    why = "you deleted it" if cur is None else "you edited it"
    return (
        FileOutcome(
            path=path, action="conflict", detail=f"{why} while the run was away; kept as is"
        ),
        None,
        False,
    )


def apply_to_worktree(
    data_dir: Path, workspace: Path, run_id: str, events: Iterable[Any]
) -> ApplyReport:
    changes = load_changes(data_dir, workspace, run_id, events)
    report = ApplyReport(run_id=run_id, shadow=changes.shadow_dir)
    chains = changes.chains(changes.calls)
    if not chains:
        return report
    return apply_chains(changes.shadow(), run_id, chains, report)


def current_states(shadow: Shadow, tree: str, paths: Iterable[str]) -> dict[str, State]:
    """(blob, mode) of each path in `tree` (None: absent), from one `ls-tree`."""
    current: dict[str, State] = dict.fromkeys(paths)
    raw = shadow.run("ls-tree", "-r", "-z", "--full-tree", tree).stdout
    for rec in filter(None, raw.split(b"\0")):
        meta, _, p = rec.partition(b"\t")
        path = os.fsdecode(p)
        if path in current:
            mode, _kind, sha = meta.decode().split(" ")
            current[path] = (sha, mode)
    return current


def apply_chains(
    shadow: Shadow, run_id: str, chains: dict[str, list[Entry]], report: ApplyReport
) -> ApplyReport:
    """Plan every chain forward against the work tree as it is now, then write what may be."""
    current = current_states(shadow, live_tree(shadow, run_id), chains)
    planned = [plan_forward(chains[p], current[p]) for p in sorted(chains)]
    _refuse_huge(shadow, planned)
    report.files = [o for o, _, _ in planned]
    report.ok = not report.conflicts
    wanted = [(t[0], o.path) for o, t, w in planned if w and t is not None]
    blobs = dict(zip((p for _, p in wanted), shadow.blobs(wanted), strict=True))
    for outcome, target, write in planned:
        if write:
            write_state(
                shadow.root, outcome.path, blobs.get(outcome.path), target[1] if target else ""
            )
    return report


def _refuse_huge(shadow: Shadow, planned: list[tuple[FileOutcome, State, bool]]) -> None:
    """A worker's blob larger than a snapshot may hold (a few MB of packed zeros inflate to
    gigabytes) is never read into memory nor written: the path is reported instead."""
    todo = [(i, t[0]) for i, (_o, t, w) in enumerate(planned) if w and t is not None]
    for (i, _sha), size in zip(todo, shadow.sizes([s for _, s in todo]), strict=True):
        if size > DEFAULT_MAX_FILE_BYTES:
            outcome = planned[i][0]
            limit = DEFAULT_MAX_FILE_BYTES >> 20
            planned[i] = (
                outcome.model_copy(
                    update={"action": "skipped", "detail": f"{size} bytes, over the {limit} MiB "
                            "a snapshot holds: a remote run's version is never applied"}
                ),
                None,
                False,
            )  # fmt: skip


def apply_to_branch(
    data_dir: Path,
    workspace: Path,
    run_id: str,
    events: list[Any],
    head: str | None,
    start_tree: str | None,
) -> ApplyReport:
    """`harness/<run_id>` in the user's repository: the run's final tree on top of the base
    commit (with the uncommitted changes it started from as a commit of their own, if any)."""
    from harness_ls.workspace.shadow import open_shadow

    repo = open_repo(workspace)
    if head is None or repo.root != Path(os.path.realpath(workspace)):
        raise InvalidInput(
            "--branch needs a workspace at the top of a git repository with a commit",
            hint="run without --branch to apply to the work tree",
        )
    final = next(
        (e.data.get("tree") for e in reversed(events) if e.type == "checkpoint.created" and e.data.get("name") == "final"),
        None,
    )  # fmt: skip
    if not final:
        raise InvalidInput(f"run {run_id} recorded no final checkpoint to put on a branch")
    shadow = open_shadow(data_dir, workspace)
    alt = {"GIT_ALTERNATE_OBJECT_DIRECTORIES": str(repo.common_dir / "objects")}
    base_tree = repo.out("rev-parse", f"{head}^{{tree}}")
    trees = [t for t in (start_tree, final) if t]
    listed = shadow.run("rev-list", "--objects", *trees, "--not", base_tree, env=alt).stdout
    if listed.strip():
        pack = shadow.run("pack-objects", "-q", "--stdout", input=listed, env=alt).stdout
        repo.run("unpack-objects", "-q", input=pack)
    parent = head
    if start_tree and start_tree != base_tree:
        parent = _commit(
            repo, start_tree, parent, f"uncommitted changes at the start of run {run_id}"
        )
    commit = _commit(repo, final, parent, f"harness run {run_id}")
    branch = f"harness/{run_id}"
    repo.run("update-ref", f"refs/heads/{branch}", commit, "0" * 40)  # create, never move
    return ApplyReport(run_id=run_id, branch=branch, commit=commit)


def _commit(repo: Any, tree: str, parent: str, message: str) -> str:
    return repo.out(
        "-c", "commit.gpgSign=false", "commit-tree", tree, "-p", parent, "-m", message, env=IDENTITY
    )
