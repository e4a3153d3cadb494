"""Workspace containment: every path a tool touches resolves (symlinks included) inside the workspace.

Writes into `.git/` are refused too: a model rewriting hooks or refs could run code or lose history.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness_ls.errors import Refused
from harness_ls.private import data_dir_rel


def resolve_path(workspace: Path, path: str, *, for_write: bool) -> Path:
    """The real path of `path` (relative to the workspace, or absolute inside it).

    Raises Refused when it contains a NUL byte, resolves outside the workspace (via `..`, an
    absolute path or a symlink), or — for writes — lands in a `.git` directory.
    """
    if not isinstance(path, str):
        raise Refused(f"path must be a string, got {type(path).__name__}")
    if "\x00" in path:
        raise Refused(
            f"path {path!r} contains a NUL byte",
            hint="pass a plain workspace-relative path",
        )
    root = os.path.realpath(workspace)
    raw = path.strip() or "."
    joined = raw if os.path.isabs(raw) else os.path.join(root, raw)
    real = os.path.realpath(joined)
    if real != root and not real.startswith(root + os.sep):
        how = "via a symlink" if _through_symlink(root, joined) else ""
        raise Refused(
            f"path {path!r} resolves outside the workspace{(' ' + how) if how else ''} ({real})",
            hint=f"use a path inside {root}",
        )
    if for_write:
        rel = os.path.relpath(real, root)
        if real == root:
            raise Refused(f"path {path!r} is the workspace root itself", hint="name a file")
        if any(part.lower() == ".git" for part in Path(rel).parts):
            raise Refused(
                f"writing into .git/ is not allowed ({rel})",
                hint="change the working tree; git metadata is managed by git itself",
            )
    return Path(real)


def refuse_data_dir(workspace: Path, real: Path, data_dir: Path | str | None) -> None:
    """Refused when the resolved `real` is the data dir or inside it: other runs' logs (other
    projects' code), the trust store, the token. Commands never see it (the sandbox hides it);
    the tools, which run in the daemon, do not read it either."""
    rel = data_dir_rel(workspace, data_dir)
    if rel is None:
        return
    shown = rel_posix(workspace, real)
    if rel == "." or shown == rel or shown.startswith(rel + "/"):
        raise Refused(
            f"{shown} is in harness-ls's data dir ({os.path.realpath(data_dir or '')}); "
            "tools never read it",
            hint="work on the project's own files",
        )


def _through_symlink(root: str, joined: str) -> bool:
    normal = os.path.normpath(joined)
    return normal == root or normal.startswith(root + os.sep)


def rel_posix(workspace: Path, real: Path) -> str:
    """Workspace-relative posix form of an already-resolved path ("." for the root)."""
    rel = os.path.relpath(real, os.path.realpath(workspace))
    return Path(rel).as_posix()
