"""Owner-only files: the data dir and everything under it is 0700 / 0600, whatever the umask.

The data dir holds code, diffs, command output, attachments, the auth token and login sessions;
on a shared machine another local user must not read any of it. A umask can only remove bits,
so creating with 0700 / 0600 is enough for files; `mkdir -p` creates parents with the default
mode, so `private_dir` creates each missing level itself. A leaf module (stdlib only): store/,
endpoints, config and the hosts all use it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
LOOSE_BITS = stat.S_IRWXG | stat.S_IRWXO


def private_dir(path: Path) -> Path:
    """Create `path` and its missing parents as 0700 (existing levels are left alone)."""
    missing: list[Path] = []
    p = Path(path)
    while not p.is_dir():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not level.is_dir():
                raise
            continue
        with contextlib.suppress(OSError):  # a umask like 0o277 must not leave it unusable
            os.chmod(level, DIR_MODE)
    return Path(path)


def open_private(path: Path | str, flags: int) -> int:
    """`os.open` that creates the file owner-only (0600)."""
    return os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)


def write_private(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `path` atomically (temp file in the same dir + rename) as a 0600 file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def loose_bits(path: Path) -> int:
    """The group/other permission bits of `path` (0 when owner-only or missing)."""
    try:
        return stat.S_IMODE(path.stat().st_mode) & LOOSE_BITS
    except OSError:
        return 0


def mode_text(path: Path) -> str:
    """`0700` style, or `missing`."""
    try:
        return f"{stat.S_IMODE(path.stat().st_mode):04o}"
    except OSError:
        return "missing"


def loose_warning(path: Path, *, directory: bool = True) -> str | None:
    """A one-line warning with the fix when other users can read or enter `path`."""
    if not loose_bits(path):
        return None
    fix = f"chmod 700 {path}" if directory else f"chmod 600 {path}"
    what = "the data dir" if directory else str(path)
    return (
        f"{what} {path} is {mode_text(path)}: other local users can read your runs, sessions and "
        f"token; run `{fix}`"
        if directory
        else f"{what} is {mode_text(path)}: other local users can read it; run `{fix}`"
    )


def process_umask() -> int:
    """The umask, read without changing it (`os.umask(0)` races with other threads' files)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def data_dir_rel(workspace: Path, data_dir: Path | str | None) -> str | None:
    """The data dir's workspace-relative posix path when the workspace holds it (a home folder
    as the workspace), else None."""
    if data_dir is None:
        return None
    root, data = os.path.realpath(workspace), os.path.realpath(data_dir)
    if data == root:
        return "."
    return Path(os.path.relpath(data, root)).as_posix() if data.startswith(root + os.sep) else None
