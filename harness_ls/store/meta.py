"""meta.json: the cheap summary of a stream, folded from its events and written atomically.

meta.json exists so listings never scan logs. It is always derivable from events.ndjson
(`fold`), so a lost or damaged meta.json is rebuilt rather than trusted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from harness_ls.errors import StorageError
from harness_ls.private import open_private
from harness_ls.store.events import TERMINAL_RUN_EVENTS, Event

RunStatus = Literal[
    "created", "running", "waiting_approval", "completed", "failed", "cancelled", "interrupted"
]
SessionStatus = Literal["idle", "running", "closed", "interrupted"]
RUN_IN_FLIGHT: frozenset[str] = frozenset({"created", "running", "waiting_approval"})
SESSION_IN_FLIGHT: frozenset[str] = frozenset({"running"})


class _Meta(BaseModel):
    id: str
    workspace: str = ""
    spec_path: str | None = None
    model: str | None = None
    title: str | None = None
    created_at: str = ""
    updated_at: str = ""
    last_seq: int = 0
    outcome: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class RunMeta(_Meta):
    kind: Literal["run"] = "run"
    status: RunStatus = "created"
    model_reason: str | None = None  # why this model (or why offline), from run.started
    node: str | None = None  # where it executed (Ray executor), from run.started / run.resumed


class SessionMeta(_Meta):
    kind: Literal["session"] = "session"
    status: SessionStatus = "idle"
    mode: str = "chat"
    surface: str | None = None  # where it was started: acp, cli, editor, dashboard, http


TITLE_CHARS = 80  # a session without a title is listed by its first message, cut to this


def first_message_title(content: Any) -> str | None:
    if isinstance(content, list):  # content parts: their text
        content = " ".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    line = next((x.strip() for x in str(content or "").splitlines() if x.strip()), "")
    if not line:
        return None
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


_RUN_STATUS = {
    "run.created": "created",
    "run.started": "running",
    "run.resumed": "running",
    "run.completed": "completed",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
    "run.interrupted": "interrupted",
}
_SESSION_STATUS = {
    "session.created": "idle",
    "turn.started": "running",
    "turn.completed": "idle",
    "turn.cancelled": "idle",
    "session.closed": "closed",
    "session.interrupted": "interrupted",
}


def apply_event(meta: RunMeta | SessionMeta, ev: Event) -> bool:
    """Update `meta` in place from one event; True when status (or identity fields) changed.

    Runs: created → running (run.started/resumed) ⇄ waiting_approval (approval.requested /
    approval.resolved) → a terminal status. Once terminal, only run.started/run.resumed move it.
    Sessions: idle ⇄ running (turn.started / turn.completed|cancelled), closed, interrupted.
    """
    meta.last_seq = max(meta.last_seq, ev.seq)
    meta.updated_at = ev.ts
    t, d = ev.type, ev.data
    before = meta.status
    if isinstance(meta, RunMeta):
        if t == "run.created":
            _identity(meta, ev)
            meta.extra = dict(d.get("extra") or {})
        if t in ("run.started", "run.resumed") and d.get("model"):
            # the model actually resolved (HARNESS_MODEL, models.toml, auto), not only an
            # explicitly requested one; an offline run keeps what was asked for
            if not d.get("offline"):
                meta.model = str(d["model"])
            meta.model_reason = d.get("reason") or meta.model_reason
        if t in ("run.started", "run.resumed") and d.get("node"):
            meta.node = str(d["node"])
        terminal = meta.status in ("completed", "failed", "cancelled", "interrupted")
        if t in _RUN_STATUS and (
            not terminal or t in ("run.started", "run.resumed", "run.created")
        ):
            meta.status = _RUN_STATUS[t]  # type: ignore[assignment]
            if t in TERMINAL_RUN_EVENTS:
                meta.outcome = str(d.get("outcome") or d.get("error") or meta.status)
            elif t != "run.created":
                meta.outcome = None
        elif t == "approval.requested" and meta.status == "running":
            meta.status = "waiting_approval"
        elif t == "approval.resolved" and meta.status == "waiting_approval":
            meta.status = "running"
        return meta.status != before or t == "run.created"
    if t == "session.created":
        _identity(meta, ev)
        meta.mode = str(d.get("mode") or "chat")
        meta.surface = d.get("surface")
    if t == "turn.completed" and d.get("model"):
        meta.model = str(d["model"])  # the model the last turn used (chosen automatically too)
    if t == "user.message" and not meta.title:
        meta.title = first_message_title(d.get("content"))
        return meta.title is not None
    if t in _SESSION_STATUS and not (meta.status == "closed" and t != "turn.started"):
        meta.status = _SESSION_STATUS[t]  # type: ignore[assignment]
    return meta.status != before or t == "session.created"


def _identity(meta: RunMeta | SessionMeta, ev: Event) -> None:
    d = ev.data
    meta.workspace = str(d.get("workspace") or "")
    meta.spec_path = d.get("spec_path")
    meta.model = d.get("model")
    meta.title = d.get("title")
    meta.created_at = ev.ts


_RELEVANT = (
    _RUN_STATUS.keys()
    | _SESSION_STATUS.keys()
    | {"approval.requested", "approval.resolved", "user.message"}
)


class Folder:
    """Incremental `fold`: only events that move status/identity pay for `apply_event`."""

    def __init__(self, kind: str, id_: str) -> None:
        self.meta: RunMeta | SessionMeta = RunMeta(id=id_) if kind == "run" else SessionMeta(id=id_)
        self.last: Event | None = None

    def add(self, ev: Event) -> None:
        self.last = ev
        if ev.type in _RELEVANT:
            apply_event(self.meta, ev)

    def done(self) -> RunMeta | SessionMeta:
        if self.last is not None:
            self.meta.last_seq = self.last.seq
            self.meta.updated_at = self.last.ts
        return self.meta


def fold(kind: str, id_: str, events: Iterable[Event]) -> RunMeta | SessionMeta:
    """Rebuild meta from the log alone."""
    folder = Folder(kind, id_)
    for ev in events:
        folder.add(ev)
    return folder.done()


def write_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `path` via a temp file in the same dir and rename; never leaves a half file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise storage_error(path, exc) from None


def write_meta(path: Path, meta: RunMeta | SessionMeta) -> None:
    write_atomic(path, (meta.model_dump_json(indent=2) + "\n").encode())


def read_meta(path: Path, kind: str) -> RunMeta | SessionMeta | None:
    """Parse meta.json; None when missing or unreadable (the caller rebuilds from the log)."""
    try:
        raw = json.loads(path.read_bytes())
        return (RunMeta if kind == "run" else SessionMeta).model_validate(raw)
    except (OSError, ValueError):
        return None


def fsync_dir(path: Path) -> None:
    """fsync a directory so entries created in it are durable (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def storage_error(path: Path | str, exc: OSError) -> StorageError:
    """A StorageError naming the path and the OS reason, with a hint for the common causes."""
    import errno

    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "the disk (or quota/file size limit) is full: free space, then retry"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "the data dir is read-only or not writable: fix permissions or set HARNESS_DATA_DIR"
    else:
        hint = "check the data dir (HARNESS_DATA_DIR) exists and is writable"
    return StorageError(f"cannot write {path}: {reason}", hint=hint, details={"path": str(path)})
