"""Which workspace-relative paths revert and a remote run's apply may write at all.

The paths come from git trees: a checkpoint the harness made, or one a worker sent back (a
different trust zone: a Ray worker can craft any tree object, with entries named `.git`, `..` or
holding a `/`; a newline in a name would also split the `cat-file --batch` request that reads
the blobs, shifting contents onto other paths). Whatever the tree says, the work tree's git metadata and `.harness/` are never
written, and nothing but a plain path below the workspace is.
"""

from __future__ import annotations


def unwritable(rel: str) -> str | None:
    """Why `rel` must never be written by revert or apply, or None (lexical, exact)."""
    if not rel or "\0" in rel or "\n" in rel or rel.startswith("/"):
        return "not a path inside the workspace"
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "not a plain path inside the workspace"
    if any(p.casefold() == ".git" for p in parts):
        return "git metadata (never written by revert or apply)"
    if parts[0] == ".harness":
        return "the harness settings (never written by revert or apply)"
    return None
