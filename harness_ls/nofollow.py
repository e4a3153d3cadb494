"""Writing a file by a resolved path without following a link swapped in after the check.

The daemon writes into the workspace outside the sandbox (write_file, edit, revert). Resolving a
path and then opening it by name is racy: between the two, anything that can write the workspace
(a command still running in another session) can swap a folder on the way for a link out of it,
and the write lands there. Here every folder is opened one by one from `/` with `O_NOFOLLOW`, and
the temp file is made and renamed relative to the last folder's descriptor: a link anywhere on
the way fails the write (`ELOOP`/`ENOTDIR`) instead of being followed.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class LinkOnTheWay(OSError):
    """A folder on the way to the file is a link (or no folder): nothing was written."""


def open_dir(path: str, *, create: bool = False) -> int:
    """A descriptor of the absolute, already-resolved folder `path`, opened without following
    any link; missing folders are made (`create`) relative to their parent's descriptor."""
    if not os.path.isabs(path):
        raise ValueError(f"not an absolute path: {path!r}")
    fd = os.open("/", _DIR)
    try:
        for part in [p for p in path.split("/") if p]:
            try:
                nxt = _step(fd, part, create)
            except OSError as exc:
                if exc.errno == errno.ELOOP or _is_link(fd, part):
                    raise LinkOnTheWay(exc.errno, f"{part!r} in {path} is a link") from None
                raise
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link(fd: int, part: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _step(fd: int, part: str, create: bool) -> int:
    try:
        return os.open(part, _DIR, dir_fd=fd)
    except FileNotFoundError:
        if not create:
            raise
    try:
        os.mkdir(part, 0o777, dir_fd=fd)
    except FileExistsError:
        pass
    return os.open(part, _DIR, dir_fd=fd)


def open_file(path: str, flags: int) -> int:
    """`os.open` of the absolute, already-resolved `path` with no link followed on the way nor
    at the end (LinkOnTheWay, or ELOOP for the file itself)."""
    folder, name = os.path.split(path)
    dfd = open_dir(folder)
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkOnTheWay(exc.errno, f"{name!r} in {folder} is a link") from None
        raise
    finally:
        os.close(dfd)


def read_regular(path: str, cap: int) -> tuple[bytes, int] | None:
    """A regular file's bytes and st_mode, reached with no link followed, opened non-blocking (a
    FIFO swapped in never hangs); None when it is not reachable so, not regular, or over `cap`."""
    try:
        fd = open_file(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
            return None
        data = fh.read(cap + 1)
    return (data, st.st_mode) if len(data) <= cap else None


def replace_in(folder: str, name: str, data: bytes, mode: int) -> None:
    """Write `data` to `folder/name` through a temp file and a rename, both relative to the
    folder's descriptor (a link at `name` itself is replaced, never followed)."""
    dfd = open_dir(folder, create=True)
    tmp = f".{name[:100]}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600, dir_fd=dfd)  # fmt: skip
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
                os.fchmod(fh.fileno(), mode)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass
            raise
    finally:
        os.close(dfd)


def mode_of(folder: str, name: str) -> int | None:
    """The permission bits of `folder/name` (not following a link), None when it is missing."""
    try:
        dfd = open_dir(folder)
    except FileNotFoundError:
        return None
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode & 0o7777
    except FileNotFoundError:
        return None
    finally:
        os.close(dfd)
