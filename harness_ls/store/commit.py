"""Group commit: how an EventStream's pending lines reach the disk and become durable.

One `os.write` per batch (all or nothing: a failed write is cut back, never left half a
line), and one fdatasync shared by every durable append waiting on the same bytes, run on a
store thread so the event loop keeps serving. Kept apart from store/stream.py, which decides
*what* is pending and when it must be durable (the write policy); this module only keeps
that promise.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import harness_ls.store.sync_pool as sync_pool
from harness_ls.errors import Conflict, StorageError
from harness_ls.store.meta import storage_error

SYNC = os.fdatasync  # the durability barrier (tests about ordering only may swap it)


class GroupCommit:
    """The disk side of `harness_ls.store.stream.EventStream`, which owns the state below."""

    kind: str
    id: str
    path: Path
    _closed: bool
    _fd: int | None
    _tlock: threading.Lock
    _pending: list[bytes]
    _pending_bytes: int
    _offset: int
    _synced: int  # file offset known to be fsync'd
    _sync_task: asyncio.Future[None] | None

    async def _sync_through(self, end: int) -> None:
        """Wait until bytes up to `end` are fsync'd, sharing in-flight syncs (group commit)."""
        loop = asyncio.get_running_loop()
        while self._synced < end:
            task = self._sync_task
            if task is not None and not task.done() and task.get_loop() is not loop:
                with self._tlock:  # appends from two event loops: sync inline, rarely needed
                    self._write_pending(sync=True)
                return
            if task is None or task.done():
                task = self._sync_task = asyncio.ensure_future(self._sync_once())
            await asyncio.shield(task)

    async def _sync_once(self) -> None:
        target = self._offset
        fd = self._fd
        if fd is None:
            raise Conflict(f"{self.kind} {self.id} stream is closed", hint="reopen it")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(sync_pool.pool(), SYNC, fd)
        except OSError as exc:
            raise storage_error(self.path, exc) from None
        self._synced = max(self._synced, target)

    def _write_pending(self, *, sync: bool) -> None:
        """Write all pending lines in one go (caller holds _tlock); all or nothing on disk."""
        if self._pending:
            buf = b"".join(self._pending)
            start = self._offset
            assert self._fd is not None
            try:
                view = memoryview(buf)
                while view:
                    n = os.write(self._fd, view)
                    view = view[n:]
            except OSError as exc:
                try:
                    os.ftruncate(self._fd, start)  # never leave a half-written line
                except OSError:
                    pass
                raise storage_error(self.path, exc) from None
            self._offset = start + len(buf)
            self._pending.clear()
            self._pending_bytes = 0
        if sync and self._fd is not None:
            try:
                SYNC(self._fd)
            except OSError as exc:
                raise storage_error(self.path, exc) from None
            self._synced = self._offset

    def _try_write_pending(self) -> None:
        try:
            self._write_pending(sync=False)
        except StorageError:
            pass  # kept pending; the next durable append reports the error

    def _flush_os(self) -> None:
        """Make batched events visible to file readers (no fsync)."""
        with self._tlock:
            if self._pending and not self._closed:
                self._try_write_pending()

    def flush_pending_sync(self) -> None:
        """Write and fsync batched events now (the process is exiting; see sync_pool)."""
        with self._tlock:
            self._write_pending(sync=True)
