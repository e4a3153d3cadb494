"""Undo exactly what the agent changed between two checkpoints, never the user's own edits.

For every path the agent changed (A = before, B = after the agent) the working tree's current
content C decides: C == B → restore A; C == A → already reverted; otherwise the user edited it
since, and a three-way merge (base B, ours C, theirs A) keeps the user's edits while removing
the agent's. Any conflict stops the whole revert before a single file is written (unless
`partial=True`), and the report carries the merge text with conflict markers. Before writing,
the current tree is saved on `refs/harness/<run_id>/pre-revert-<time>` so even a revert can be
undone. The user's index, HEAD and branch are not touched.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from harness_ls.errors import Refused
from harness_ls.workspace.checkpoints import REF_PREFIX, resolve_range, snapshot_tree
from harness_ls.workspace.git import IDENTITY, GitLocked, Repo, open_repo

Action = Literal["restored", "deleted", "merged", "unchanged", "conflict", "skipped"]
GITLINK = "160000"


class FileOutcome(BaseModel):
    path: str
    action: Action
    detail: str = ""
    merged: str | None = None  # for conflicts on text files: the merge with conflict markers


class RevertReport(BaseModel):
    run_id: str
    step: int | None
    range: str
    from_commit: str
    to_commit: str | None
    ok: bool  # no conflicts
    applied: bool  # files were written
    dry_run: bool = False
    files: list[FileOutcome] = []
    safety_ref: str | None = None

    @property
    def conflicts(self) -> list[FileOutcome]:
        return [f for f in self.files if f.action == "conflict"]

    def summary(self) -> str:
        what = f"run {self.run_id}" + (f" step {self.step}" if self.step is not None else "")
        lines = [f"revert {what} ({self.range})"]
        lines += [
            f"  {f.action:9} {f.path}" + (f" — {f.detail}" if f.detail else "") for f in self.files
        ]
        if self.conflicts and not self.applied:
            lines.append(
                f"stopped: {len(self.conflicts)} conflict(s), nothing was written; resolve them or retry with --partial"
            )
        elif self.safety_ref:
            lines.append(f"the tree before this revert is saved as {self.safety_ref}")
        return "\n".join(lines)


class _Change(BaseModel):
    path: str
    a_mode: str
    b_mode: str
    a_sha: str | None
    b_sha: str | None


def _changes(repo: Repo, a: str, b: str) -> list[_Change]:
    raw = repo.run("diff-tree", "-r", "-z", "--no-renames", a, b).stdout
    parts = raw.split(b"\0")
    out: list[_Change] = []
    for meta, path in zip(parts[0::2], parts[1::2], strict=False):
        if not meta.startswith(b":"):
            continue
        a_mode, b_mode, a_sha, b_sha, _status = meta[1:].decode().split(" ")
        zero = set("0")
        out.append(
            _Change(
                path=os.fsdecode(path),
                a_mode=a_mode,
                b_mode=b_mode,
                a_sha=None if set(a_sha) <= zero else a_sha,
                b_sha=None if set(b_sha) <= zero else b_sha,
            )
        )
    return out


def _current(repo: Repo, changes: list[_Change]) -> dict[str, tuple[str, str] | None]:
    """path -> (blob sha as git would store it, mode) of the working tree file, None if absent."""
    state: dict[str, tuple[str, str] | None] = {}
    regular: list[str] = []
    for c in changes:
        p = repo.root / c.path
        if os.path.islink(p):
            sha = repo.out(
                "hash-object", "--stdin", "--no-filters", input=os.fsencode(os.readlink(p))
            )
            state[c.path] = (sha, "120000")
        elif p.is_file():
            regular.append(c.path)
        elif p.is_dir() and (c.a_mode == GITLINK or c.b_mode == GITLINK):
            state[c.path] = ("", GITLINK)
        else:
            state[c.path] = None
    if regular:
        shas = repo.out(
            "hash-object", "--stdin-paths", input="\n".join(regular).encode()
        ).splitlines()
        for path, sha in zip(regular, shas, strict=True):
            mode = "100755" if os.access(repo.root / path, os.X_OK) else "100644"
            state[path] = (sha, mode)
    return state


def _blobs(repo: Repo, items: list[tuple[str, str]]) -> list[bytes]:
    """Blob contents as they belong in the working tree (smudge filters / eol applied), in one call."""
    if not items:
        return []
    req = "".join(f"{sha} {path}\n" for sha, path in items).encode()
    raw = repo.run("cat-file", "--batch", "--filters", input=req).stdout
    out, pos = [], 0
    for _ in items:
        nl = raw.index(b"\n", pos)
        size = int(raw[pos:nl].split()[2])
        out.append(raw[nl + 1 : nl + 1 + size])
        pos = nl + 1 + size + 1
    return out


def _blob(repo: Repo, sha: str, path: str) -> bytes:
    return _blobs(repo, [(sha, path)])[0]


def _merge(repo: Repo, c: _Change) -> tuple[bytes | None, str]:
    """Three-way merge base=B (agent), ours=C (working tree), theirs=A (before): (result, text)."""
    ours = (repo.root / c.path).read_bytes()
    base, theirs = _blob(repo, c.b_sha or "", c.path), _blob(repo, c.a_sha or "", c.path)
    if any(b"\0" in x[:8000] for x in (ours, base, theirs)):
        return None, ""
    with tempfile.TemporaryDirectory(prefix="harness-merge-") as t:
        files = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            f = Path(t, name)
            f.write_bytes(data)
            files.append(str(f))
        proc = repo.run(
            "merge-file",
            "-p",
            "-L",
            "your working tree",
            "-L",
            "agent's change",
            "-L",
            "before the agent",
            *files,
            check=False,
        )
    if proc.returncode < 0 or proc.returncode > 127:
        return None, ""
    return (proc.stdout if proc.returncode == 0 else None), proc.stdout.decode(errors="replace")


def _plan(repo: Repo, c: _Change, cur: tuple[str, str] | None) -> tuple[FileOutcome, bytes | None]:
    """What to do for one path: the outcome and, for writes, the bytes to write (None = delete)."""
    a = (c.a_sha, c.a_mode) if c.a_sha else None
    b = (c.b_sha, c.b_mode) if c.b_sha else None
    if GITLINK in (c.a_mode, c.b_mode):
        hint = (
            f"git -C {c.path} checkout {c.a_sha}" if c.a_sha else "remove it yourself if unwanted"
        )
        return FileOutcome(
            path=c.path, action="skipped", detail=f"submodule changed; not reverted ({hint})"
        ), None
    if cur == a:
        return FileOutcome(
            path=c.path, action="unchanged", detail="already as before the agent"
        ), None
    if cur == b:
        if a is None:
            return FileOutcome(path=c.path, action="deleted", detail="created by the agent"), None
        return FileOutcome(
            path=c.path, action="restored"
        ), None  # content fetched in one batch later
    if cur is None:
        return FileOutcome(
            path=c.path,
            action="conflict",
            detail="you deleted this file after the agent changed it; "
            f"its earlier content is `git show {c.a_sha}`",
        ), None
    if a is None:
        return FileOutcome(
            path=c.path,
            action="conflict",
            detail="the agent created this file and it was edited since; "
            "delete it yourself if it is unwanted",
        ), None
    if b is None:
        return FileOutcome(
            path=c.path,
            action="conflict",
            detail="the agent deleted this file and it was re-created since; "
            f"its earlier content is `git show {c.a_sha}`",
        ), None
    merged, text = _merge(repo, c)
    if merged is None:
        detail = "edited by you and by the agent; " + (
            "the changes overlap" if text else "binary file, cannot merge"
        )
        return FileOutcome(path=c.path, action="conflict", detail=detail, merged=text or None), None
    return FileOutcome(path=c.path, action="merged", detail="your later edits kept"), merged


def _write(root: Path, rel: str, data: bytes | None, mode: str) -> None:
    target = root / rel
    real_parent = os.path.realpath(target.parent) if target.parent.exists() else str(target.parent)
    if os.path.commonpath([real_parent, str(root)]) != str(root):
        raise Refused(f"refusing to write {rel}: its directory leads outside {root}")
    if data is None:
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or mode == "120000":
        target.unlink(missing_ok=True)
    if mode == "120000":
        os.symlink(os.fsdecode(data), target)
        return
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.harness-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o755 if mode == "100755" else 0o644)
    os.replace(tmp, target)


def _safety_ref(repo: Repo, run_id: str) -> str:
    tree = snapshot_tree(repo)[0]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    ref = f"{REF_PREFIX}/{run_id}/pre-revert-{stamp}"
    parent = ["-p", h] if (h := repo.head()) else []
    commit = repo.out(
        "-c",
        "commit.gpgSign=false",
        "commit-tree",
        tree,
        *parent,
        "-m",
        f"harness: working tree before reverting {run_id}",
        env=IDENTITY,
    )
    repo.run("update-ref", ref, commit)
    return ref


def revert(
    workspace: str | os.PathLike[str],
    run_id: str,
    step: int | None = None,
    *,
    dry_run: bool = False,
    partial: bool = False,
) -> RevertReport:
    """Undo the agent's changes of the whole run or of one step; see the module docstring."""
    repo = open_repo(workspace)
    if repo.index_locked():
        raise GitLocked(
            f"another git process is running in {repo.root} (index.lock exists); not reverting now",
            hint=f"wait for it to finish; if none is running, remove {repo.index_path()}.lock",
        )
    start, end, desc = resolve_range(repo, run_id, step)
    end_tree = end or snapshot_tree(repo)[0]
    changes = _changes(repo, start, end_tree)
    current = _current(repo, changes)
    planned = [(c, *_plan(repo, c, current.get(c.path))) for c in changes]
    files = [p[1] for p in planned]
    ok = not any(f.action == "conflict" for f in files)
    report = RevertReport(
        run_id=run_id,
        step=step,
        range=desc,
        from_commit=start,
        to_commit=end,
        ok=ok,
        applied=False,
        dry_run=dry_run,
        files=files,
    )
    writes = [p for p in planned if p[1].action in ("restored", "deleted", "merged")]
    if dry_run or not writes or (not ok and not partial):
        return report
    report.safety_ref = _safety_ref(repo, run_id)
    restore = [(c.a_sha or "", c.path) for c, o, _ in writes if o.action == "restored"]
    fetched = dict(zip((p for _, p in restore), _blobs(repo, restore), strict=True))
    for c, outcome, data in writes:
        cur = current.get(c.path)
        mode = cur[1] if outcome.action == "merged" and cur else c.a_mode
        _write(repo.root, c.path, fetched[c.path] if outcome.action == "restored" else data, mode)
    report.applied = True
    return report
