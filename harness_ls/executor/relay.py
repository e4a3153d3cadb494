"""Worker side of a remote run: what the run engine sees instead of the daemon's store, broker
and model keys — all of them relays to the control plane through one outbox.

The worker never writes the run's log. Each event gets its id (its idempotency key) here and
goes into the outbox; durable events wait until the control plane acknowledged them (the
remote twin of the store's fsync), chatty ones do not. Approvals are asked of the one broker in
agentd; model calls are made by agentd, which holds the keys, and streamed back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from harness_ls.store.events import Event, check_data, event_type, make_event, now_ts
from harness_ls.store.ids import ulid

MAX_BATCH = 200
TREE_KEYS = ("tree", "before", "after")


class Outbox:
    """Messages to the control plane, numbered from 1; kept until acknowledged."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.dropped = 0  # items acknowledged and forgotten
        self.acked = 0
        # one event per side, each cleared only by its own waiters: a shared one lost wakeups
        # (wait_for starts its waiting task a tick later, after the other side had cleared it)
        self._news = asyncio.Event()
        self._acks = asyncio.Event()

    def put(self, msg: dict[str, Any]) -> int:
        msg["n"] = self.dropped + len(self.items) + 1
        self.items.append(msg)
        self._news.set()
        return msg["n"]

    def ack(self, n: int) -> None:
        if n > self.acked:
            self.acked = n
            drop = min(n - self.dropped, len(self.items))
            if drop > 0:
                del self.items[:drop]
                self.dropped += drop
            self._acks.set()

    async def after(self, n: int, wait: float) -> list[dict[str, Any]]:
        """Messages numbered above `n` (acknowledging up to `n`), waiting up to `wait` s."""
        self.ack(n)
        deadline = time.monotonic() + wait
        while not self.items:
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._news.clear()
            try:
                await asyncio.wait_for(self._news.wait(), left)
            except TimeoutError:
                return []
        return self.items[:MAX_BATCH]

    async def acked_through(self, n: int) -> None:
        while self.acked < n:
            self._acks.clear()
            await self._acks.wait()


class RelayStream:
    """The run's event stream as the engine sees it on a worker (EventStream's interface)."""

    kind = "run"
    writable = True
    closed = False

    def __init__(
        self,
        run_id: str,
        data_dir: Path,
        outbox: Outbox,
        prior: list[Event],
        pack: Callable[[list[str]], bytes],
    ) -> None:
        self.id = run_id
        self.dir = data_dir / "runs" / run_id
        self.path = self.dir / "events.ndjson"  # agent/checkpoints.py finds the data dir from it
        self.outbox = outbox
        self.events: list[Event] = list(prior)
        self._pack = pack
        self._lock = asyncio.Lock()  # events keep their order even while one is being packed

    @property
    def last_seq(self) -> int:
        return len(self.events)

    async def append(
        self,
        type: str,
        data: Any = None,
        *,
        step_id: str | None = None,
        call_id: str | None = None,
    ) -> Event:
        async with self._lock:
            if type.startswith(("checkpoint.", "artifact.")):  # git / file work: off the loop
                ev, n = await asyncio.to_thread(self._put, type, data, step_id, call_id)
            else:
                ev, n = self._put(type, data, step_id, call_id)
        if event_type(type).durable:
            await self.outbox.acked_through(n)
        return ev

    def append_nowait(
        self, type: str, data: Any = None, *, step_id: str | None = None, call_id: str | None = None
    ) -> Event:
        return self._put(type, data, step_id, call_id)[0]

    def _put(
        self, type: str, data: Any, step_id: str | None, call_id: str | None
    ) -> tuple[Event, int]:
        payload = check_data(type, data)
        ms = time.time_ns() // 1_000_000
        fields = {
            "seq": len(self.events) + 1, "id": "ev_" + ulid(ms), "ts": now_ts(ms), "type": type,
            "run_id": self.id, "session_id": None, "step_id": step_id, "call_id": call_id,
            "data": payload,
        }  # fmt: skip
        ev = make_event(fields)
        self.events.append(ev)
        msg: dict[str, Any] = {"kind": "event", "event": ev.to_dict()}
        if type.startswith("checkpoint."):
            msg["pack"] = self._pack([str(payload[k]) for k in TREE_KEYS if payload.get(k)])
        if type == "artifact.written" and str(payload.get("path", "")).startswith("artifacts/"):
            try:
                msg["artifact"] = (self.dir / str(payload["path"])).read_bytes()
            except OSError:
                pass
        return ev, self.outbox.put(msg)

    def read(self, after: int = 0) -> Iterator[Event]:
        return iter(self.events[after:])

    def load_data(self, ev: Event) -> dict[str, Any]:
        return ev.data

    async def flush(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def close_sync(self) -> None:
        pass


class RelayStore:
    """The parts of RunStore a run engine uses, over the relayed stream."""

    def __init__(self, stream: RelayStream) -> None:
        self._stream = stream

    def stream(self, kind: str, id_: str) -> RelayStream:
        return self._stream

    def reader(self, kind: str, id_: str) -> RelayStream:
        return self._stream

    def load_data(self, kind: str, id_: str, ev: Event) -> dict[str, Any]:
        return ev.data

    def artifacts_dir(self, run_id: str) -> Path:
        path = self._stream.dir / "artifacts"
        path.mkdir(parents=True, exist_ok=True)
        return path


class RelayBroker:
    """Asks the control plane's broker; the answer comes back through `answer`."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._asked: dict[str, dict[str, Any]] = {}  # id -> its message, to ask again

    async def request(self, *, stream: Any, id: str, preview: Any, **fields: Any) -> Any:
        from harness_ls.agent.approvals import Resolution

        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[id] = future
        msg = {"kind": "approval", "id": id, "preview": preview, "fields": fields}
        self._asked[id] = dict(msg)
        self.outbox.put(msg)
        try:
            answer = await future
        except asyncio.CancelledError:
            self.outbox.put({"kind": "approval.cancel", "id": id})
            raise
        finally:
            self._waiting.pop(id, None)
            self._asked.pop(id, None)
        return Resolution(**answer)

    def waiting(self) -> list[dict[str, Any]]:
        """The approvals still unanswered (a re-attached agentd asks them again)."""
        return [dict(m) for m in self._asked.values()]

    def answer(self, id: str, resolution: dict[str, Any]) -> None:
        future = self._waiting.get(id)
        if future is not None and not future.done():
            future.set_result(resolution)

    def cancel_for(self, owner_id: str) -> list[Any]:
        for future in list(self._waiting.values()):
            if not future.done():
                future.set_result(
                    {"decision": "cancelled", "surface": "system", "note": "run cancelled"}
                )
        return []

    def pending(self, owner_id: str | None = None) -> list[Any]:
        return []


class RelayProvider:
    """A model provider whose calls the control plane makes (it holds the keys)."""

    def __init__(self, outbox: Outbox, name: str, settings: Any) -> None:
        self.outbox = outbox
        self.name = name
        self.settings = settings
        self._feeds: dict[str, asyncio.Queue[Any]] = {}
        self._count = 0

    async def stream(
        self, model: str, messages: list[Any], tools: list[Any] | None = None, **opts: Any
    ) -> AsyncIterator[Any]:
        from harness_ls.models.http import RetryNotice, notify_retry

        self._count += 1
        rid = f"m{self._count}"
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._feeds[rid] = queue
        self.outbox.put(
            {"kind": "model", "id": rid, "model": model, "messages": messages, "tools": tools, "opts": opts}
        )  # fmt: skip
        finished = False
        try:
            while True:
                item = await queue.get()
                if isinstance(item, dict) and "retry" in item:
                    await notify_retry(RetryNotice(**item["retry"]))
                elif isinstance(item, dict) and "error" in item:
                    finished = True
                    raise _provider_error(item["error"])
                elif item is None:
                    finished = True
                    return
                else:
                    yield item
        finally:
            self._feeds.pop(rid, None)
            if not finished:
                self.outbox.put({"kind": "model.cancel", "id": rid})

    async def complete(
        self, model: str, messages: list[Any], tools: list[Any] | None = None, **opts: Any
    ) -> Any:
        from harness_ls.models.types import collect

        return await collect(self.stream(model, messages, tools, **opts))

    def restart_calls(self) -> None:
        """agentd restarted mid-call: each open call fails retryably (its loop asks again)."""
        gone = {
            "class": "ProviderError",
            "message": "agentd restarted during the model call",
            "retryable": True,
        }
        for queue in self._feeds.values():
            queue.put_nowait({"error": gone})

    def feed(self, rid: str, items: list[Any]) -> None:
        queue = self._feeds.get(rid)
        if queue is not None:
            for item in items:
                queue.put_nowait(item)


def _provider_error(err: dict[str, Any]) -> Exception:
    """The control plane's ProviderError, rebuilt with its class, code and retryability."""
    from harness_ls.models import errors

    cls = getattr(errors, str(err.get("class", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.ProviderError)):
        cls = errors.ProviderError
    exc = cls(str(err.get("message", "model call failed")), hint=err.get("hint"))
    exc.retryable = bool(err.get("retryable"))
    return exc


def error_dict(exc: Exception) -> dict[str, Any]:
    """What crosses back for a failed model call (its message is masked already)."""
    return {
        "class": type(exc).__name__,
        "message": getattr(exc, "message", str(exc)),
        "hint": getattr(exc, "hint", None),
        "retryable": bool(getattr(exc, "retryable", False)),
    }
