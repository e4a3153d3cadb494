"""What a write's target is right now, so that what runs is what was approved.

An approval shows a preview of a write ("create greet.txt", a diff); the user may take minutes
to answer, and meanwhile the file can be created, edited, deleted or replaced by a symlink. The
agent loop records the target's state when it builds the preview and runs the approved call
through `Guarded`, which checks the state again immediately before the write: if it differs,
nothing is written and the loop asks again with a fresh preview.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def target_state(workspace: Path, rel: str) -> str:
    """A fingerprint of `rel` under `workspace`: where its directory really is, and what the
    entry itself is (absent, a symlink and its target, a directory, a file: mode, size, sha256)."""
    path = Path(workspace) / rel
    parent = os.path.realpath(path.parent)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return f"{parent}|absent"
    except OSError as exc:
        return f"{parent}|error {exc.errno}"
    if stat.S_ISLNK(st.st_mode):
        return f"{parent}|symlink -> {os.readlink(path)}"
    if stat.S_ISDIR(st.st_mode):
        return f"{parent}|directory"
    if not stat.S_ISREG(st.st_mode):
        return f"{parent}|special {stat.S_IFMT(st.st_mode):o}"
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        return f"{parent}|unreadable {exc.errno}"
    return f"{parent}|file {stat.S_IMODE(st.st_mode):o} {st.st_size} {digest.hexdigest()}"


def describe(state: str) -> str:
    """A fingerprint in words, for the approval that asks again."""
    what = state.split("|", 1)[-1]
    if what.startswith("file "):
        size = what.split()[2]
        return f"a file of {size} bytes"
    return {"absent": "absent", "directory": "a directory"}.get(what, what)


def what_changed(rel: str, before: str, now: str) -> str:
    """One line for the user and the model: how the target changed while the approval waited."""
    if before.split("|", 1)[0] != now.split("|", 1)[0]:
        return (
            f"the directory of {rel} now resolves elsewhere (a symlink replaced part of its path)"
        )
    b, n = describe(before), describe(now)
    if b == "absent":
        return f"{rel} was created while the approval waited (now {n})"
    if n == "absent":
        return f"{rel} was deleted while the approval waited"
    if b.startswith("a file") and n.startswith("a file"):
        sizes = f"{b.split()[3]} -> {n.split()[3]} bytes" if b != n else "same size"
        return f"{rel} was edited while the approval waited ({sizes})"
    return f"{rel} was replaced while the approval waited (was {b}, now {n})"


class Guarded:
    """A write tool that runs only while its target is in the state the approval previewed;
    otherwise a `target_changed` result and nothing written."""

    def __init__(self, tool: Any, rel: str, expected: str) -> None:
        self.tool, self.rel, self.expected = tool, rel, expected

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tool, name)

    def changed(self, ctx: Any) -> str | None:
        """How the target changed since the preview, or None while it is the same."""
        now = target_state(ctx.workspace, self.rel)
        return None if now == self.expected else what_changed(self.rel, self.expected, now)

    async def run(self, ctx: Any, args: Any) -> Any:
        from harness_ls.tools.base import ToolResult

        why = self.changed(ctx)
        if why is not None:
            return ToolResult(
                ok=False,
                output=f"{why}; not written",
                error_code="target_changed",
                data={"path": self.rel},
            )
        return await self.tool.run(ctx, args)
