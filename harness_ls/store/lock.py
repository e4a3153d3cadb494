"""One writer per stream across processes: an fcntl advisory lock on `<stream dir>/.lock`.

flock locks belong to the open file description, so the lock is released by the kernel when the
holder dies (even by kill -9): a crashed host never leaves a stream locked. The holder writes its
pid into the file so the refusal can say who is writing.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from harness_ls.errors import StorageError
from harness_ls.private import open_private
from harness_ls.store.meta import storage_error


class WriterLock:
    """An exclusive, non-blocking lock; `acquire` raises StorageError when another writer holds it."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = open_private(self.path, os.O_RDWR)
        except OSError as exc:
            raise storage_error(self.path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                who = f"process {holder}" if holder else "another process"
                raise StorageError(
                    f"{self.what} is already being written by {who}",
                    hint="only one host may write a run or session at a time; "
                    "attach to it read-only (reader/subscribe) or stop the other host",
                    details={"path": str(self.path), "pid": holder},
                ) from None
            raise storage_error(self.path, exc) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the pid is only informative
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    @property
    def held(self) -> bool:
        return self.fd is not None


def is_locked(path: Path) -> bool:
    """True when some live writer holds the stream's lock (used by recovery and listings)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _read_holder(fd: int) -> int | None:
    try:
        raw = os.pread(fd, 32, 0).decode().strip()
        return int(raw) if raw else None
    except (OSError, ValueError):
        return None
