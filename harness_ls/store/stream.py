"""EventStream: the writer (one per stream, locked) and reader of one run's or session's log.

Write policy (also in docs/events.md):
- durable events (every type except `message.delta` and `log`) are written together with any
  batched events before them, then fdatasync'd, before `append` returns (on a store thread with
  group commit for `await append`, inline for `append_nowait`);
- chatty events are published to in-process subscribers at once and written in batches: when a
  durable event follows, when `BATCH_EVENTS` events or `BATCH_BYTES` bytes are pending, after
  `BATCH_DELAY` seconds, on `flush()` and on `close()`. A kill -9 may lose at most the last
  `BATCH_DELAY` seconds of chatty events; never an acknowledged durable one.
- a line longer than `MAX_LINE` has its data moved to `artifacts/events/<seq>-<type>.json`
  and replaced by a preview plus `{"$artifact": {...}}` (see `load_data`).

How pending lines reach the disk (one write per batch, fsync, group commit) is store/commit.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import harness_ls.store.log as logfile
from harness_ls.errors import Conflict, StorageError
from harness_ls.nofollow import read_regular
from harness_ls.private import open_private
from harness_ls.store.commit import GroupCommit
from harness_ls.store.encode import encode_line, encode_masked, offload
from harness_ls.store.events import (
    Event,
    EventType,
    check_data,
    event_type,
    make_event,
    now_ts,
)
from harness_ls.store.ids import ulid
from harness_ls.store.live import RING_CAPACITY, Hub, Subscription, live_hub, open_hub
from harness_ls.store.lock import WriterLock
from harness_ls.store.meta import (
    RunMeta,
    SessionMeta,
    apply_event,
    fsync_dir,
    read_meta,
    storage_error,
    write_meta,
)

_log = logging.getLogger(__name__)

BATCH_EVENTS = 256
BATCH_BYTES = 64 * 1024
BATCH_DELAY = 0.1
MAX_LINE = 256 * 1024
PREVIEW_CHARS = 2000
_OFFLOADED = re.compile(r"artifacts/events/[0-9]{8,}-[a-z][a-z0-9._]*\.json")  # `offload`'s names
MAX_OFFLOADED = 256 << 20  # an offloaded event's data, read back whole
META_EVERY = 1.0  # seconds between meta.json refreshes when only seq/updated_at changed


class EventStream(GroupCommit):
    """One stream's log. Writers come from `RunStore.stream`, readers from `RunStore.reader`."""

    def __init__(self, kind: str, id_: str, dir_: Path, *, writable: bool) -> None:
        self.kind = kind
        self.id = id_
        self.dir = dir_
        self.path = dir_ / "events.ndjson"
        self.meta_path = dir_ / "meta.json"
        self.writable = writable
        self._id_key = "run_id" if kind == "run" else "session_id"
        self._closed = False
        self._fd: int | None = None
        self._lock: WriterLock | None = None
        self._hub: Hub | None = None
        self._tlock = threading.Lock()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._offset = 0
        self._last_seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._meta: RunMeta | SessionMeta | None = None
        self._meta_written = 0.0
        self._meta_dirty = False
        self._last_ts = ""
        self._synced = 0  # file offset known to be fsync'd
        self._sync_task: asyncio.Future[None] | None = None
        self.recovered: dict[str, Any] | None = None

    # ---- opening ------------------------------------------------------------------------------

    def _open_writer(self) -> list[tuple[str, dict[str, Any]]]:
        """Lock, repair, and load the stream; returns repair events still to be appended."""
        self._lock = WriterLock(self.dir / ".lock", f"{self.kind} {self.id}")
        self._lock.acquire()
        try:
            return self._load()
        except BaseException:
            self._lock.release()
            raise

    def _load(self) -> list[tuple[str, dict[str, Any]]]:
        scan, self.recovered, todo = logfile.repair(self.path, self.kind, self.id)
        existed = self.path.exists()
        try:
            self._fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise storage_error(self.path, exc) from None
        if not existed:
            fsync_dir(self.dir)  # the new file's directory entry must survive a power loss too
        self._offset = os.fstat(self._fd).st_size
        self._synced = self._offset
        self._last_seq = scan.last_seq
        self._meta = scan.meta
        self._last_ts = scan.meta.updated_at
        on_disk = read_meta(self.meta_path, self.kind)
        if scan.last_seq and (on_disk is None or on_disk != self._meta):
            self._meta_dirty = True
            self._write_meta_now()
        self._hub = open_hub(str(self.path), self._last_seq, self._flush_os, RING_CAPACITY)
        self._hub.writer = self
        return todo

    # ---- properties ---------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """Seq of the newest event (exact for a writer; read from the file tail for a reader)."""
        if self.writable:
            return self._last_seq
        hub = live_hub(str(self.path))
        return hub.last_seq if hub is not None else logfile.last_seq_of(self.path)

    @property
    def meta(self) -> RunMeta | SessionMeta | None:
        """The writer's current meta (folded from every event appended so far)."""
        meta = self._meta
        if meta is not None and self._last_seq > meta.last_seq:  # chatty events fold lazily
            meta.last_seq = self._last_seq
            meta.updated_at = self._last_ts
        return meta

    @property
    def closed(self) -> bool:
        return self._closed

    # ---- writing ------------------------------------------------------------------------------

    async def append(
        self,
        type: str,
        data: dict[str, Any] | BaseModel | None = None,
        *,
        step_id: str | None = None,
        call_id: str | None = None,
        event_id: str | None = None,
    ) -> Event:
        """Append one event; durable types are on disk (fsync'd) when this returns.

        The fsync runs on a store thread, so the event loop keeps serving (LSP, SSE) meanwhile;
        concurrent durable appends share one fsync (group commit). Chatty events never wait.
        `event_id`: the id a remote worker gave the event (its idempotency key, executor/).
        """
        et = event_type(type)
        if not et.durable:
            return self._append(et, data, step_id, call_id, sync=False, event_id=event_id)
        ev = self._append(et, data, step_id, call_id, sync=False, publish=False, event_id=event_id)
        end = self._offset
        try:
            await self._sync_through(end)
        finally:  # the line is in the log even if the caller was cancelled meanwhile
            assert self._hub is not None
            self._hub.publish(ev)
        return ev

    def append_nowait(
        self,
        type: str,
        data: dict[str, Any] | BaseModel | None = None,
        *,
        step_id: str | None = None,
        call_id: str | None = None,
    ) -> Event:
        """`append` for synchronous callers (same guarantees; blocks for the fsync)."""
        et = event_type(type)
        return self._append(et, data, step_id, call_id, sync=et.durable)

    def _append(
        self,
        et: EventType,
        data: dict[str, Any] | BaseModel | None,
        step_id: str | None,
        call_id: str | None,
        *,
        sync: bool,
        publish: bool = True,
        event_id: str | None = None,
    ) -> Event:
        """Assign the seq and write (durable: now; chatty: batched); fsync when `sync`."""
        if not self.writable:
            raise Conflict(
                f"{self.kind} {self.id} was opened read-only",
                hint="use RunStore.stream() to get the writer",
            )
        if self._closed:
            raise Conflict(
                f"{self.kind} {self.id} stream is closed", hint="reopen it with RunStore.stream()"
            )
        type = et.name
        payload = check_data(type, data)
        with self._tlock:
            seq = self._last_seq + 1
            ms = time.time_ns() // 1_000_000
            fields = {
                "seq": seq,
                "id": event_id or "ev_" + ulid(ms),
                "ts": now_ts(ms),
                "type": type,
                "run_id": self.id if self.kind == "run" else None,
                "session_id": self.id if self.kind == "session" else None,
                "step_id": step_id,
                "call_id": call_id,
                "data": payload,
            }
            ev = make_event(fields)
            line = encode_masked(ev)  # no key reaches the log or a subscriber
            if len(line) > MAX_LINE:
                ev.data = self._offload(ev, et.durable)
                line = encode_line(ev)
            self._pending.append(line)
            self._pending_bytes += len(line)
            self._last_seq = seq
            if et.durable:
                try:
                    self._write_pending(sync=sync)
                except StorageError:
                    if self._pending and self._pending[-1] is line:
                        self._pending.pop()  # the failed durable event never happened
                        self._pending_bytes -= len(line)
                        self._last_seq = seq - 1
                    raise
            elif len(self._pending) >= BATCH_EVENTS or self._pending_bytes >= BATCH_BYTES:
                self._try_write_pending()
            elif self._timer is None:
                self._arm_timer()
            if publish:
                assert self._hub is not None
                self._hub.publish(ev)
        self._last_ts = ev.ts
        if et.durable:
            self._update_meta(ev)
        else:
            self._meta_dirty = True
        return ev

    def _offload(self, ev: Event, durable: bool) -> dict[str, Any]:
        """Store an oversize event's data as an artifact; return a preview that references it."""
        return offload(self.dir, ev, durable=durable, preview_chars=PREVIEW_CHARS)

    def load_data(self, ev: Event) -> dict[str, Any]:
        """The full data of an event, following an oversize event's artifact reference."""
        ref = ev.data.get("$artifact")
        if not isinstance(ref, dict) or not _OFFLOADED.fullmatch(str(ref.get("path"))):
            return ev.data  # only what `offload` names: a reference is data, which a remote
            # worker (another trust zone) writes too — `/home/you/.docker/config.json` was read
        got = read_regular(os.path.join(os.path.realpath(self.dir), ref["path"]), MAX_OFFLOADED)
        if got is None:
            return ev.data  # no link followed, no FIFO waited on, nothing huge read
        return json.loads(got[0])

    def _arm_timer(self) -> None:
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._timer = loop.call_later(BATCH_DELAY, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        with self._tlock:
            if self._closed:
                return
            self._try_write_pending()
            if self._pending:
                self._arm_timer()

    async def flush(self) -> None:
        """Write and fsync everything appended so far (e.g. before handing the log to a reader)."""
        with self._tlock:
            self._write_pending(sync=True)
        self._write_meta_now()

    def _update_meta(self, ev: Event) -> None:
        """Fold a durable event into meta; chatty ones only move last_seq/updated_at (lazily)."""
        if self._meta is None:
            return
        changed = apply_event(self._meta, ev)
        self._meta_dirty = True
        if changed or time.monotonic() - self._meta_written >= META_EVERY:
            self._write_meta_now()

    def _write_meta_now(self) -> None:
        """Refresh meta.json; a failure is logged, not raised: the event itself is safe in the
        log, and meta.json is rebuilt from the log on the next open."""
        if self._meta is not None and self._meta_dirty:
            if self._last_seq > self._meta.last_seq:
                self._meta.last_seq = self._last_seq
                self._meta.updated_at = self._last_ts
            try:
                write_meta(self.meta_path, self._meta)
            except StorageError as exc:
                _log.warning("%s", exc.one_line())
                return
            self._meta_written = time.monotonic()
            self._meta_dirty = False

    async def close(self) -> None:
        """Flush and fsync, update meta.json, release the lock; live subscribers go on from disk."""
        task = self._sync_task
        if task is not None and not task.done():
            try:
                await asyncio.shield(task)
            except Exception:  # noqa: BLE001 - close still syncs and reports below
                pass
        self.close_sync()

    def close_sync(self) -> None:
        if self._closed:
            return
        if not self.writable:
            self._closed = True
            return
        try:
            with self._tlock:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                self._write_pending(sync=True)
                self._write_meta_now()
        finally:
            self._closed = True
            if self._hub is not None:
                self._hub.close()
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._lock is not None:
                self._lock.release()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- reading ------------------------------------------------------------------------------

    def read(self, after: int = 0) -> Iterator[Event]:
        """Events with seq > after, in order, as currently in the log (batched ones included)."""
        hub = live_hub(str(self.path))
        if hub is not None:
            hub.flush_os()
        return logfile.read_events(self.path, after)

    def subscribe(self, after: int = 0, *, poll_interval: float | None = None) -> Subscription:
        """Replay events after `after` from disk, then follow live; no gap, no duplicate.

        In-process writers deliver from memory; a writer in another process is followed by
        polling the file every `poll_interval` seconds (default 50 ms).
        """
        kwargs = {} if poll_interval is None else {"poll_interval": poll_interval}
        return Subscription(self.path, after, **kwargs)
