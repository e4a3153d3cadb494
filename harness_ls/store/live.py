"""In-process live fan-out: a ring of recent events per open writer, and subscriptions over it.

A subscription is a cursor (`next` seq), not a queue: it takes events from the writer's ring
while they are there and from disk otherwise, so there is nothing to register, nothing to drop
and no way to see a gap or a duplicate. A subscriber slower than the ring (it fell more than
`capacity` events behind) is told (`lagged` grows) and simply continues from disk. Without a
writer in this process (e.g. `agentd` showing a run `harness-ls` writes) it tails the file by
polling. Works across threads: waiters on other event loops are woken thread-safely.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from harness_ls.store.events import Event
from harness_ls.store.log import CHUNK, _validate_json, seek_after
from harness_ls.store.observe import notify

RING_CAPACITY = 4096
POLL_INTERVAL = 0.05

_HUBS: dict[str, Hub] = {}
_HUBS_LOCK = threading.Lock()


class Hub:
    """Recent events of one stream whose writer lives in this process."""

    def __init__(
        self, key: str, last_seq: int, flush_os: Callable[[], None], capacity: int
    ) -> None:
        self.key = key
        self.cap = capacity
        self.ring: list[Event | None] = [None] * capacity
        self.first_seq = last_seq + 1  # older events are only on disk
        self.last_seq = last_seq
        self.flush_os = flush_os  # makes batched events visible in the file
        self.closed = False
        self.writer: object | None = None
        self._waiters: dict[asyncio.AbstractEventLoop, asyncio.Future[None]] = {}

    def publish(self, ev: Event) -> None:
        """Make `ev` live. Durable events are published after their fsync, so a later chatty
        event may be published first; readers then find the earlier one on disk."""
        self.ring[ev.seq % self.cap] = ev
        if ev.seq > self.last_seq:
            self.last_seq = ev.seq
        self.wake()
        notify(self.key, ev)

    def get(self, seq: int) -> Event | None:
        if seq > self.last_seq or seq < self.first_seq or seq <= self.last_seq - self.cap:
            return None
        ev = self.ring[seq % self.cap]
        return ev if ev is not None and ev.seq == seq else None

    def waiter(self) -> asyncio.Future[None]:
        """A future resolved at the next publish; one per event loop, shared by its waiters
        (so a publish costs O(loops), not O(subscribers))."""
        loop = asyncio.get_running_loop()
        fut = self._waiters.get(loop)
        if fut is None or fut.done():
            fut = self._waiters[loop] = loop.create_future()
        return fut

    def wake(self) -> None:
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, {}
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, fut in waiters.items():
            if loop is running:
                if not fut.done():
                    fut.set_result(None)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, fut)

    def close(self) -> None:
        self.closed = True
        with _HUBS_LOCK:
            if _HUBS.get(self.key) is self:
                del _HUBS[self.key]
        self.wake()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def open_hub(key: str, last_seq: int, flush_os: Callable[[], None], capacity: int) -> Hub:
    hub = Hub(key, last_seq, flush_os, capacity)
    with _HUBS_LOCK:
        _HUBS[key] = hub
    return hub


def live_hub(key: str) -> Hub | None:
    hub = _HUBS.get(key)
    return hub if hub is not None and not hub.closed else None


class Subscription:
    """Async iterator of events with seq > after: replay from disk, then live, forever.

    Ends only when the consumer stops iterating (`aclose()` / break). `lagged` counts how many
    times this subscriber fell behind the live ring and had to re-read from disk.
    """

    def __init__(self, path: Path, after: int = 0, *, poll_interval: float = POLL_INTERVAL) -> None:
        self.path = path
        self.key = str(path)
        self.next = max(0, after) + 1
        self.lagged = 0
        self.poll_interval = poll_interval
        self._buf: deque[Event] = deque()
        self._fh = None
        self._off = 0
        self._reseek = True
        self._closed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._closed:
                raise StopAsyncIteration
            buf = self._buf
            while buf:
                ev = buf.popleft()
                if ev.seq >= self.next:
                    self.next = ev.seq + 1
                    return ev
            hub = live_hub(self.key)
            if hub is not None:
                ev = hub.get(self.next)
                if ev is not None:
                    self.next += 1
                    self._reseek = True
                    return ev
                if self.next <= hub.last_seq:
                    if hub.first_seq <= self.next <= hub.last_seq - hub.cap:
                        self.lagged += 1  # overtaken by the ring: catch up from disk
                    hub.flush_os()
                    self._fill()
                    if not self._buf:  # should not happen; avoid a busy loop
                        await asyncio.sleep(0)
                    continue
                fut = hub.waiter()
                if hub.last_seq < self.next and not hub.closed:
                    try:
                        await fut
                    except asyncio.CancelledError:
                        # the shared future was cancelled by another waiter's cancellation;
                        # only our own cancellation ends this subscription
                        task = asyncio.current_task()
                        if task is None or task.cancelling():
                            raise
                continue
            self._fill()
            if not self._buf:
                await asyncio.sleep(self.poll_interval)

    def _fill(self, max_bytes: int = CHUNK) -> None:
        """Read the next complete lines from disk into the buffer (events with seq >= next)."""
        if self._fh is None:
            try:
                self._fh = open(self.path, "rb")  # noqa: SIM115 - kept open while tailing
            except FileNotFoundError:
                return
            self._reseek = True
        fh = self._fh
        size = os.fstat(fh.fileno()).st_size
        if size < self._off:  # the file was repaired (tail cut) by a new writer
            self._reseek = True
        if self._reseek:
            self._off = seek_after(fh, self.next - 1, size)
            self._reseek = False
        want = max_bytes
        while True:
            fh.seek(self._off)
            data = fh.read(want)
            end = data.rfind(b"\n")
            if end >= 0 or len(data) < want:
                break
            want *= 2  # one line longer than the chunk
        if end < 0:
            return
        nxt = self.next
        push = self._buf.append
        for line in data[:end].split(b"\n"):
            if not line:
                continue
            try:
                ev = _validate_json(line)
            except (ValidationError, ValueError):
                continue
            if ev.seq >= nxt:
                push(ev)
        self._off += end + 1

    async def aclose(self) -> None:
        self._closed = True
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __del__(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except Exception:
                pass
