"""Snapshots: the work tree written as a tree in the shadow repository through a private index.

Untracked files are included; `.gitignore`d files are left out except a write/edit call's own
target (`force`); files bigger than `max_file_bytes` are reported, never hashed. The index
persists between snapshots, so a warm snapshot only stats the tree.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pydantic import BaseModel

from harness_ls.private import private_dir, write_private
from harness_ls.workspace.git import Repo, git_failure
from harness_ls.workspace.shadow import GITLINK, Shadow

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024  # bigger new/changed files are left out of snapshots
MANY_UNTRACKED = 20_000
MANY_PATHSPECS = 256  # more changed paths than this: one whole-tree `add` is cheaper


class SkippedFile(BaseModel):
    path: str
    size: int
    reason: str


class Snapshot(BaseModel):
    tree: str
    skipped: list[SkippedFile] = []
    submodules: list[str] = []
    warnings: list[str] = []
    ignored: list[str] = []  # git-ignored paths changed since `ignored_since` (not in the tree)


def snapshot(
    shadow: Shadow,
    index: str,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    seed: str | None = None,
    force: list[str] | None = None,
    ignored_since: float | None = None,
) -> Snapshot:
    """Write the work tree as a tree in the shadow repo using the private index `index`.

    `seed` names another index to start from (a copy), so a one-off snapshot is warm too.
    `force`: workspace-relative paths taken even when git ignores them (a write/edit call's
    target: once in the index, later snapshots follow it like any tracked file).
    `ignored_since`: also list the ignored paths modified since that time (a shell call's
    writes into ignored places, which the tree cannot hold), in `Snapshot.ignored`.
    """
    path = shadow.index_path(index)
    private_dir(path.parent)
    if not path.exists():
        _seed_index(shadow, path, seed)
    warnings: list[str] = []
    # Two listings, run side by side: tracked paths whose stat differs from the index
    # (`diff-files`), and new paths (`ls-files -o`). Only those are handed to `add`, so an
    # unchanged tree costs no `add` at all, and only new files are size-checked before hashing.
    extra = [("ls-files", "-z", "-o", "-i", "--exclude-standard", "--directory")]
    dirty, listed, *ignored_raw = shadow.run_both(
        ("diff-files", "--name-only", "-z", "--no-renames"),
        ("ls-files", "-z", "-o", "--exclude-standard"),
        *(extra if ignored_since is not None else []),
        index=index,
    )
    skipped: list[SkippedFile] = []
    entries = [e for e in listed.split(b"\0") if e]
    if len(entries) > MANY_UNTRACKED:
        top = sorted({os.fsdecode(e).split("/", 1)[0] for e in entries})[:5]
        warnings.append(
            f"{len(entries)} new files (under {', '.join(top)}...); add generated directories "
            "such as node_modules/ to .gitignore to keep checkpoints fast"
        )
    specs = [os.fsdecode(e) for e in dirty.split(b"\0") if e]
    for raw in entries:
        rel = os.fsdecode(raw)
        if rel.endswith("/"):  # a nested repository: recorded as a gitlink, contents not
            specs.append(rel)
            continue
        try:
            st = os.lstat(shadow.root / rel)
        except OSError:
            continue
        if st.st_size > max_file_bytes and not os.path.islink(shadow.root / rel):
            skipped.append(
                SkippedFile(path=rel, size=st.st_size, reason=f"larger than {max_file_bytes} bytes")
            )
            continue
        specs.append(rel)
    forced = [
        f
        for f in force or []
        if os.path.lexists(shadow.root / f) and not _in_nested_repo(shadow.root, f)
    ]  # fmt: skip - a nested repository's files are recorded by its commit (a gitlink) only
    if specs or forced:
        # past MANY_PATHSPECS git matches each path against every spec: go whole-tree
        many = len(specs) > MANY_PATHSPECS
        if many and forced:
            _add(shadow, index, forced, force=True)
        # -f is harmless on listed paths: they are tracked or not ignored
        proc = (
            _add_whole(shadow, index, skipped, specs)
            if many
            else _add(shadow, index, specs + forced, force=bool(forced))
        )
        if proc.returncode != 0 and b"did not match any file" in proc.stderr:
            proc = _add_whole(shadow, index, skipped, specs)  # a new file went away meanwhile
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip()
            unreadable = [ln for ln in err.splitlines() if "unable to" in ln or "error:" in ln]
            if not unreadable:
                raise git_failure(
                    Repo(shadow.root, shadow.git_dir, shadow.git_dir, path), ("add",), err
                )
            warnings.extend(unreadable[:20])
    tree = shadow.out("write-tree", index=index)
    submodules: list[str] = []
    if (shadow.root / ".gitmodules").exists() or any(e.endswith(b"/") for e in entries):
        staged = shadow.run("ls-files", "-z", "-s", index=index).stdout
        for entry in filter(None, staged.split(b"\0")):
            meta, _, p = entry.partition(b"\t")
            if meta.startswith(GITLINK.encode()):
                submodules.append(os.fsdecode(p))
        if submodules:
            warnings.append(
                f"submodules/nested repositories are recorded by commit only: {', '.join(submodules[:5])}"
            )
    ignored = _since(shadow, ignored_raw[0], ignored_since) if ignored_raw else []
    return Snapshot(
        tree=tree, skipped=skipped, submodules=submodules, warnings=warnings, ignored=ignored
    )


def _add_whole(
    shadow: Shadow, index: str, skipped: list[SkippedFile], specs: list[str]
) -> subprocess.CompletedProcess[bytes]:
    """`add -A` of the whole tree but skipped files and nested repositories: on an unchanged
    gitlink a whole-tree `add` starts `git status` inside it, where that repository's own
    config applies (filter drivers, fsmonitor). A gitlink listed as changed is then added by
    its literal path, which starts nothing."""
    staged = shadow.run("ls-files", "-z", "-s", index=index).stdout
    links = {
        os.fsdecode(e.partition(b"\t")[2]) for e in staged.split(b"\0") if e.startswith(b"160000 ")
    }
    out = [*(f.path for f in skipped), *sorted(links)]
    proc = _add(shadow, index, [":(top)", *(f":(exclude,literal,top){p}" for p in out)])
    moved = [p for p in specs if p in links]
    return _add(shadow, index, moved) if proc.returncode == 0 and moved else proc


def _in_nested_repo(root: Path, rel: str) -> bool:
    """Whether a workspace-relative path lies inside a nested repository (an ancestor directory,
    below the root, holding a `.git`): git refuses to add it to the outer index."""
    parts = Path(rel).parts[:-1]
    return any(os.path.lexists(root.joinpath(*parts[: i + 1], ".git")) for i in range(len(parts)))


IGNORED_CAP = 50  # ignored paths listed per call


def _since(shadow: Shadow, raw: bytes, since: float | None) -> list[str]:
    """The ignored entries (files, or directories git lists whole) modified at or after `since`."""
    out: list[str] = []
    for e in filter(None, raw.split(b"\0")):
        rel = os.fsdecode(e)
        try:
            st = os.lstat(shadow.root / rel)
        except OSError:
            continue
        if since is not None and st.st_mtime >= since:
            out.append(rel)
            if len(out) >= IGNORED_CAP:
                break
    return out


def _add(
    shadow: Shadow, index: str, specs: list[str], *, force: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """`git add -A` of `specs` (literal paths, or the whole-tree form with magic pathspecs);
    `force` takes ignored paths too (only ever with literal paths)."""
    magic = specs[:1] == [":(top)"]
    return shadow.run(
        "-c", "advice.addEmbeddedRepo=false", "add", "-A", *(["-f"] if force else []),
        "--ignore-errors",
        "--pathspec-from-file=-", "--pathspec-file-nul",
        index=index, env={"GIT_LITERAL_PATHSPECS": "0"} if magic else None,
        input="\0".join(specs).encode(), check=False,
    )  # fmt: skip


def snapshot_paths(
    shadow: Shadow,
    index: str,
    paths: list[str],
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Snapshot | None:
    """Update only `paths` (workspace-relative) in the private index and write its tree.

    For a call whose footprint is known (a file write or edit) this is the after-snapshot at a
    fraction of a full walk, and it claims nothing else: a file the user saved meanwhile is
    picked up by the next full snapshot, as theirs. Ignore rules apply as in `snapshot`.
    None when it cannot stand in for a full snapshot (no index yet, a path outside the tree).
    """
    if not paths or not shadow.index_path(index).exists():
        return None
    specs: list[str] = []
    skipped: list[SkippedFile] = []
    for rel in paths:
        if not rel or os.path.isabs(rel) or ".." in Path(rel).parts:
            return None
        try:
            st = os.lstat(shadow.root / rel)
        except OSError:
            st = None  # deleted: `add -A` records the removal
        if st is not None and st.st_size > max_file_bytes and not os.path.islink(shadow.root / rel):
            skipped.append(
                SkippedFile(path=rel, size=st.st_size, reason=f"larger than {max_file_bytes} bytes")
            )
            continue
        specs.append(rel)
    if specs:  # -f: a call's own target counts even where git ignores it
        proc = shadow.run(
            "add", "-A", "-f", "--ignore-errors", "--pathspec-from-file=-", "--pathspec-file-nul",
            index=index, input="\0".join(specs).encode(), check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            return None
    return Snapshot(tree=shadow.out("write-tree", index=index), skipped=skipped)


def _seed_index(shadow: Shadow, path: Path, seed: str | None) -> None:
    """Start a new private index from `seed`, else from the newest index of this workspace:
    its cached stat data spares re-hashing every file on a run's first snapshot."""
    candidates = [shadow.index_path(seed)] if seed else []
    try:
        others = [p for p in path.parent.iterdir() if p.is_file() and not p.name.endswith(".lock")]
        candidates += sorted(others, key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        pass
    for src in candidates:
        try:
            write_private(path, src.read_bytes())
            return
        except OSError:
            continue


def drop_index(shadow: Shadow, index: str) -> None:
    shadow.index_path(index).unlink(missing_ok=True)
