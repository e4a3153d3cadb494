"""Git checkpoints of the working tree on private refs, and the diff of what the agent changed.

`checkpoint(ws, run_id, n)` snapshots the whole working tree — tracked, modified and untracked
files, honouring .gitignore — into a commit on `refs/harness/<run_id>/<n>`. It builds the tree
in a temporary index (GIT_INDEX_FILE, seeded with a copy of the user's index so unchanged files
are not re-hashed), so the user's index, branch, HEAD and stash are never touched. The runtime
takes checkpoint n before execute step n and `finalize()` at the end; the diff of step n is then
checkpoint n → the next checkpoint (or `final`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from harness_ls.errors import InvalidInput, NotFound
from harness_ls.workspace.git import IDENTITY, Repo, open_repo

REF_PREFIX = "refs/harness"
FINAL = "final"
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024  # bigger new/changed files are left out of snapshots
MANY_UNTRACKED = 20_000
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_META = "Harness-Meta: "


class SkippedFile(BaseModel):
    path: str
    size: int
    reason: str


class Checkpoint(BaseModel):
    run_id: str
    name: str  # "0", "1", ... or "final"
    ref: str
    commit: str
    tree: str
    head: str | None  # the user's HEAD commit at snapshot time (None: no commits yet)
    branch: str | None  # None: detached HEAD
    dirty: bool  # the working tree differed from HEAD (user changes are part of the snapshot)
    dirty_paths: list[str] = []  # which paths differed from HEAD (first 100)
    skipped: list[SkippedFile] = []
    submodules: list[str] = []  # recorded as their checked-out commit, contents not snapshotted
    warnings: list[str] = []
    created_at: str
    message: str = ""

    @property
    def step(self) -> int | None:
        return int(self.name) if self.name.isdigit() else None


_META_FIELDS = {"head", "branch", "dirty", "dirty_paths", "skipped", "submodules", "warnings"}


def _check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise InvalidInput(
            f"run id {run_id!r} cannot name a git ref",
            hint="use letters, digits, '_' and '-' only (e.g. run_01J...)",
        )
    return run_id


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def snapshot_tree(
    repo: Repo, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> tuple[str, list[SkippedFile], list[str], list[str]]:
    """Write the working tree as a git tree without touching the user's index.

    Returns (tree id, skipped big files, submodule paths, warnings).
    """
    tmp_index = repo.git_dir / f"harness-index-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    warnings: list[str] = []
    try:
        user_index = repo.index_path()
        if user_index.exists():
            shutil.copyfile(user_index, tmp_index)
        if repo.index_locked():
            warnings.append(
                "the index was locked by another git process; snapshot taken from a copy"
            )
        env = {"GIT_INDEX_FILE": str(tmp_index)}
        listed = repo.run("ls-files", "-z", "-m", "-o", "--exclude-standard", env=env).stdout
        skipped: list[SkippedFile] = []
        excludes: list[str] = []
        entries = [e for e in listed.split(b"\0") if e]
        if len(entries) > MANY_UNTRACKED:
            top = sorted({os.fsdecode(e).split("/", 1)[0] for e in entries})[:5]
            warnings.append(
                f"{len(entries)} changed or untracked files (under {', '.join(top)}...); "
                "add generated directories such as node_modules/ to .gitignore to keep checkpoints fast"
            )
        for raw in entries:
            rel = os.fsdecode(raw)
            if rel.endswith("/"):  # an embedded repository that is not a submodule
                excludes.append(rel.rstrip("/"))
                warnings.append(
                    f"{rel} is a nested git repository (not a submodule); not snapshotted"
                )
                continue
            try:
                st = os.lstat(repo.root / rel)
            except OSError:
                continue
            if st.st_size > max_file_bytes and not os.path.islink(repo.root / rel):
                excludes.append(rel)
                skipped.append(
                    SkippedFile(
                        path=rel, size=st.st_size, reason=f"larger than {max_file_bytes} bytes"
                    )
                )
        specs = [".", *(f":(exclude,literal){p}" for p in excludes)]
        proc = repo.run(
            "add",
            "-A",
            "--ignore-errors",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            env=env,
            input="\0".join(specs).encode(),
            check=False,
        )
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip()
            unreadable = [ln for ln in err.splitlines() if "unable to" in ln or "error:" in ln]
            if not unreadable:
                from harness_ls.workspace.git import git_failure

                raise git_failure(repo, ("add",), err)
            warnings.extend(unreadable[:20])
        tree = repo.out("write-tree", env=env)
        submodules: list[str] = []
        if (repo.root / ".gitmodules").exists() or any("nested" in w for w in warnings):
            staged = repo.run("ls-files", "-z", "-s", env=env).stdout
            for entry in filter(None, staged.split(b"\0")):
                meta, _, path = entry.partition(b"\t")
                if meta.startswith(b"160000"):
                    submodules.append(os.fsdecode(path))
        return tree, skipped, submodules, warnings
    finally:
        tmp_index.unlink(missing_ok=True)


def _parse_meta(message: str) -> dict:
    for line in message.splitlines():
        if line.startswith(_META):
            try:
                return json.loads(line[len(_META) :])
            except ValueError:
                return {}
    return {}


def _refs(repo: Repo, run_id: str | None = None) -> list[tuple[str, str, str, int, str]]:
    """(ref, commit, tree, committer unix time, message) under refs/harness[/run_id]."""
    prefix = f"{REF_PREFIX}/{run_id}/" if run_id else f"{REF_PREFIX}/"
    fmt = "%(refname)%00%(objectname)%00%(tree)%00%(committerdate:unix)%00%(contents)%00%00"
    out = repo.run("for-each-ref", f"--format={fmt}", prefix).stdout.decode(errors="replace")
    rows = []
    for rec in out.split("\0\0"):
        rec = rec.lstrip("\n")
        if not rec:
            continue
        ref, commit, tree, ts, msg = rec.split("\0", 4)
        rows.append((ref, commit, tree, int(ts or 0), msg))
    return rows


def _order(name: str) -> tuple[int, int]:
    return (1, 0) if name == FINAL else (0, int(name))


def list_checkpoints(workspace: str | os.PathLike[str], run_id: str) -> list[Checkpoint]:
    """The run's checkpoints in order (0, 1, ..., final); safety refs from revert are left out."""
    repo = open_repo(workspace)
    out: list[Checkpoint] = []
    for ref, commit, tree, _ts, msg in _refs(repo, _check_run_id(run_id)):
        name = ref.rsplit("/", 1)[1]
        if not (name.isdigit() or name == FINAL):
            continue
        meta = _parse_meta(msg)
        fields = {k: v for k, v in meta.items() if k in _META_FIELDS}
        fields.update(run_id=run_id, name=name, created_at=meta.get("created_at", ""))
        out.append(
            Checkpoint(**fields, ref=ref, commit=commit, tree=tree, message=msg.split("\n", 1)[0])
        )
    return sorted(out, key=lambda c: _order(c.name))


def list_runs(workspace: str | os.PathLike[str]) -> list[str]:
    repo = open_repo(workspace)
    return sorted({ref.split("/")[2] for ref, *_ in _refs(repo)})


def _take(
    repo: Repo, run_id: str, name: str, message: str, parent: str | None, max_file_bytes: int
) -> Checkpoint:
    tree, skipped, submodules, warnings = snapshot_tree(repo, max_file_bytes)
    (head, head_tree), branch = repo.head_and_tree(), repo.branch()
    dirty_paths: list[str] = []
    if tree != head_tree:
        names = repo.run(
            "diff-tree", "-r", "-z", "--name-only", "--no-renames", head_tree, tree
        ).stdout
        dirty_paths = [os.fsdecode(p) for p in names.split(b"\0") if p][:100]
    created = _now()
    meta = {
        "run_id": run_id,
        "name": name,
        "head": head,
        "branch": branch,
        "dirty": tree != head_tree,
        "dirty_paths": dirty_paths,
        "skipped": [sk.model_dump() for sk in skipped],
        "submodules": submodules,
        "warnings": warnings,
        "created_at": created,
    }
    title = f"harness checkpoint {run_id}/{name}" + (f": {message}" if message else "")
    body = f"{title}\n\n{_META}{json.dumps(meta, separators=(',', ':'))}\n"
    parents = ["-p", parent] if parent else []
    commit = repo.out(
        "-c",
        "commit.gpgSign=false",
        "commit-tree",
        tree,
        *parents,
        "-F",
        "-",
        env=IDENTITY,
        input=body.encode(),
    )
    ref = f"{REF_PREFIX}/{run_id}/{name}"
    repo.run("update-ref", "-m", title, ref, commit)
    return Checkpoint(**meta, ref=ref, commit=commit, tree=tree, message=title)


def checkpoint(
    workspace: str | os.PathLike[str],
    run_id: str,
    n: int,
    message: str = "",
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Checkpoint:
    """Snapshot the working tree as checkpoint `n` of `run_id` (taken before execute step n).

    Re-taking an existing n (a resumed run) moves the ref to the new snapshot.
    """
    if not isinstance(n, int) or n < 0:
        raise InvalidInput(f"checkpoint number must be an integer >= 0, got {n!r}")
    repo = open_repo(workspace)
    earlier = [
        c
        for c in _refs(repo, _check_run_id(run_id))
        if c[0].rsplit("/", 1)[1].isdigit() and int(c[0].rsplit("/", 1)[1]) < n
    ]
    parent = max(earlier, key=lambda c: int(c[0].rsplit("/", 1)[1]))[1] if earlier else repo.head()
    return _take(repo, run_id, str(n), message, parent, max_file_bytes)


def finalize(
    workspace: str | os.PathLike[str],
    run_id: str,
    message: str = "run finished",
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Checkpoint:
    """The `final` checkpoint: the tree as the run left it (diffs end here, not at the live tree)."""
    repo = open_repo(workspace)
    numbered = [c for c in _refs(repo, _check_run_id(run_id)) if c[0].rsplit("/", 1)[1].isdigit()]
    parent = (
        max(numbered, key=lambda c: int(c[0].rsplit("/", 1)[1]))[1] if numbered else repo.head()
    )
    return _take(repo, run_id, FINAL, message, parent, max_file_bytes)


def resolve_range(repo: Repo, run_id: str, step: int | None) -> tuple[str, str | None, str]:
    """(from commit, to commit or None for the live working tree, description) for a diff/revert."""
    cps = [
        (ref.rsplit("/", 1)[1], commit) for ref, commit, *_ in _refs(repo, _check_run_id(run_id))
    ]
    cps = sorted((c for c in cps if c[0].isdigit() or c[0] == FINAL), key=lambda c: _order(c[0]))
    if not cps:
        raise NotFound(
            f"no checkpoints for run {run_id} in {repo.root}",
            hint="checkpoints are taken before each execute step; a run that never executed has none",
        )
    if step is None:
        start = 0
    else:
        names = [name for name, _ in cps]
        if str(step) not in names:
            have = ", ".join(n for n in names if n != FINAL)
            raise NotFound(
                f"run {run_id} has no checkpoint for step {step}",
                hint=f"steps with checkpoints: {have}",
            )
        start = names.index(str(step))
    end = len(cps) - 1 if step is None else start + 1
    if end <= start or end >= len(cps):
        return (
            cps[start][1],
            None,
            f"checkpoint {cps[start][0]} → working tree (no later checkpoint)",
        )
    return cps[start][1], cps[end][1], f"checkpoint {cps[start][0]} → {cps[end][0]}"


def diff(workspace: str | os.PathLike[str], run_id: str, step: int | None = None) -> str:
    """Unified diff of what the agent changed: the whole run, or step N (checkpoint N → next).

    Without a later checkpoint (run still going, or killed before `finalize`) the end point is
    the live working tree.
    """
    repo = open_repo(workspace)
    start, end, _ = resolve_range(repo, run_id, step)
    end_tree = end or snapshot_tree(repo)[0]
    return repo.run(
        "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames", start, end_tree
    ).stdout.decode(errors="replace")
