"""Small helpers shared by the agent runtime, the core facade and the hosts.

A leaf module (it imports only errors.py and the standard library), so that agent/ can use them
without importing core/, which imports agent/: layering goes one way (tests/test_layers.py).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from harness_ls.errors import InvalidInput, Refused

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def workspace_dir(workspace: str) -> Path:
    """The resolved workspace directory; InvalidInput when missing or not a directory."""
    if not workspace:
        raise InvalidInput(
            "workspace is required",
            hint="pass the path of the project directory (a git repository, or a plain directory)",
        )
    ws = Path(workspace).expanduser()
    if not ws.exists():
        raise InvalidInput(f"workspace {workspace} does not exist")
    if not ws.is_dir():
        raise InvalidInput(f"workspace {workspace} is not a directory")
    return ws.resolve()


def problem_dict(problem: Any) -> dict[str, Any]:
    """A spec problem as JSON (pydantic models dump themselves; anything else by attribute)."""
    if hasattr(problem, "model_dump"):
        return problem.model_dump(mode="json")
    return {k: getattr(problem, k, None) for k in ("code", "severity", "message", "range")}


def spec_target(ws: Path, name: str) -> Path:
    """specs/<name>/spec.md in the workspace; InvalidInput for a name that could escape it,
    Refused when a link (a cloned repository's `specs -> ../..`) would take the write outside."""
    if not _NAME.match(name or ""):
        raise InvalidInput(
            f"spec name {name!r} is not valid",
            hint="use letters, digits, '.', '_' or '-' (e.g. add-login)",
        )
    target = ws / "specs" / name / "spec.md"
    root = ws.resolve()
    if not target.parent.resolve().is_relative_to(root):
        raise Refused(
            f"{target.relative_to(ws)} leads outside the workspace {root} through a symbolic link "
            f"(to {target.parent.resolve()})",
            hint="remove the link (specs/ or specs/<name>/ must be folders of the workspace)",
        )
    return target


def write_atomic(path: Path, text: str, *, root: Path | None = None) -> None:
    """Write via a temp file + rename so readers never see half a file.

    With `root` (the workspace `path` was checked in), the folder's real path must be inside
    root's, and it is then opened by descriptors with no link followed (harness_ls/nofollow.py):
    a folder swapped for a link out of the workspace after the check (a spec session's
    `specs/x/`, while a command of another session runs) is refused, or fails the write with
    LinkOnTheWay, instead of taking it outside. An existing file's mode is kept."""
    if root is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return
    from harness_ls import nofollow
    from harness_ls.private import process_umask

    top, folder = os.path.realpath(root), os.path.realpath(path.parent)
    if folder != top and not folder.startswith(top + os.sep):
        raise Refused(f"{path} leads outside the workspace {top} (to {folder})")
    mode = nofollow.mode_of(folder, path.name)
    mode = 0o666 & ~process_umask() if mode is None else mode
    nofollow.replace_in(folder, path.name, text.encode("utf-8"), mode)


def nesting_depth(value: Any, stop: int) -> int:
    """Depth of nested lists/dicts, counted without recursion (a hostile frame or body nested
    thousands deep would blow Python's stack); stops counting at `stop`."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest >= stop:
                return deepest
            todo += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest
