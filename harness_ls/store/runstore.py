"""RunStore: the data dir's runs/ and sessions/, their metadata, streams, recovery and export.

Layout: `<root>/runs/<run_id>/{meta.json, events.ndjson, artifacts/}` and
`<root>/sessions/<session_id>/{meta.json, events.ndjson, attachments/}`.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import harness_ls.store.log as logfile
from harness_ls.config import data_dir
from harness_ls.errors import HarnessError, InvalidInput, NotFound
from harness_ls.private import private_dir
from harness_ls.store.events import Event
from harness_ls.store.export import build_zip
from harness_ls.store.ids import check_id, new_id
from harness_ls.store.live import _HUBS, live_hub
from harness_ls.store.lock import is_locked
from harness_ls.store.meta import (
    RUN_IN_FLIGHT,
    SESSION_IN_FLIGHT,
    RunMeta,
    SessionMeta,
    fold,
    fsync_dir,
    read_meta,
    storage_error,
    write_atomic,
    write_meta,
)
from harness_ls.store.recover import closing_events
from harness_ls.store.stream import EventStream

Kind = Literal["run", "session"]
STALE_CREATED = 30.0  # seconds a run may sit in "created" before recovery calls it interrupted


class RunStore:
    """Runs and sessions under one data dir; cheap to construct, safe to share in a process."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = data_dir(root)
        self._cache: dict[str, tuple[int, int, RunMeta | SessionMeta]] = {}

    # ---- paths --------------------------------------------------------------------------------

    def _kind_dir(self, kind: str) -> Path:
        if kind == "run":
            return self.root / "runs"
        if kind == "session":
            return self.root / "sessions"
        raise InvalidInput(f"unknown stream kind {kind!r}", hint="use 'run' or 'session'")

    def _dir(self, kind: str, id_: str, *, must_exist: bool = True) -> Path:
        base = self._kind_dir(kind)
        d = base / check_id(id_, f"{kind} id")
        if must_exist and not (d / "events.ndjson").exists() and not (d / "meta.json").exists():
            raise NotFound(
                f"no {kind} {id_!r} in {base}",
                hint=f"list them with `agentctl {kind}s` (or check HARNESS_DATA_DIR)",
                details={"kind": kind, "id": id_},
            )
        return d

    def stream_dir(self, kind: Kind, id_: str) -> Path:
        return self._dir(kind, id_)

    def artifacts_dir(self, run_id: str) -> Path:
        return self._ensure(self._dir("run", run_id) / "artifacts")

    def attachments_dir(self, session_id: str) -> Path:
        return self._ensure(self._dir("session", session_id) / "attachments")

    @staticmethod
    def _ensure(path: Path) -> Path:
        try:
            private_dir(path)
        except OSError as exc:
            raise storage_error(path, exc) from None
        return path

    def _new_dir(self, kind: Kind, prefix: str, sub: str) -> tuple[str, Path]:
        id_ = new_id(prefix)
        d = self._kind_dir(kind) / id_
        self._ensure(d / sub)
        fsync_dir(d.parent)
        return id_, d

    # ---- creating -----------------------------------------------------------------------------

    def create_run(
        self,
        *,
        workspace: str,
        spec_path: str,
        spec_text: str,
        model: str | None = None,
        extra: dict | None = None,
    ) -> RunMeta:
        """A new run: artifacts/spec.md (the spec as it is now), meta.json and run.created."""
        run_id, d = self._new_dir("run", "run", "artifacts")
        raw = spec_text.encode()
        write_atomic(d / "artifacts" / "spec.md", raw, durable=True)
        extra = dict(extra or {})
        title = extra.get("title") or _title_from(spec_path)
        data = {
            "workspace": str(workspace),
            "spec_path": str(spec_path),
            "model": model,
            "title": title,
            "spec_sha256": hashlib.sha256(raw).hexdigest(),
            "extra": extra,
        }
        meta = self._create(d, "run", run_id, "run.created", data)
        assert isinstance(meta, RunMeta)
        return meta

    def create_session(
        self,
        *,
        workspace: str,
        mode: str = "chat",
        spec_path: str | None = None,
        model: str | None = None,
        title: str | None = None,
        surface: str | None = None,
    ) -> SessionMeta:
        session_id, d = self._new_dir("session", "session", "attachments")
        data = {
            "workspace": str(workspace),
            "mode": mode,
            "spec_path": spec_path,
            "model": model,
            "title": title,
            "surface": surface,
        }
        meta = self._create(d, "session", session_id, "session.created", data)
        assert isinstance(meta, SessionMeta)
        return meta

    def _create(
        self, d: Path, kind: Kind, id_: str, type_: str, data: dict
    ) -> RunMeta | SessionMeta:
        stream = EventStream(kind, id_, d, writable=True)
        for t, payload in stream._open_writer():
            stream.append_nowait(t, payload)
        try:
            stream.append_nowait(type_, {k: v for k, v in data.items() if v is not None})
            meta = stream.meta
            assert meta is not None
            return meta.model_copy(deep=True)
        finally:
            stream.close_sync()

    # ---- streams ------------------------------------------------------------------------------

    def stream(self, kind: Kind, id_: str) -> EventStream:
        """The writer of a stream (repairs the log on open). In this process the open writer is
        shared: calling again returns the same object until it is closed. Another process
        holding it → StorageError naming the holder's pid."""
        d = self._dir(kind, id_)
        hub = live_hub(str(d / "events.ndjson"))
        if hub is not None and isinstance(hub.writer, EventStream) and not hub.writer.closed:
            return hub.writer
        stream = EventStream(kind, id_, d, writable=True)
        todo = stream._open_writer()
        try:
            for t, payload in todo:
                stream.append_nowait(t, payload)
        except HarnessError:
            stream.close_sync()
            raise
        return stream

    def has_writer(self, kind: Kind, id_: str) -> bool:
        """True when this process holds the stream's open writer (`stream()` would share it)."""
        hub = live_hub(str(self._dir(kind, id_) / "events.ndjson"))
        return hub is not None and isinstance(hub.writer, EventStream) and not hub.writer.closed

    def reader(self, kind: Kind, id_: str) -> EventStream:
        """Read/subscribe access from any process; never blocks or disturbs the writer."""
        return EventStream(kind, id_, self._dir(kind, id_), writable=False)

    # ---- metadata -----------------------------------------------------------------------------

    def get(self, kind: Kind, id_: str) -> RunMeta | SessionMeta:
        """Current meta (NotFound for unknown ids); rebuilt from the log if meta.json is lost."""
        d = self._dir(kind, id_)
        hub = live_hub(str(d / "events.ndjson"))
        if hub is not None and isinstance(hub.writer, EventStream) and hub.writer.meta is not None:
            return hub.writer.meta.model_copy(deep=True)
        meta = self._load_meta(kind, d)
        if meta is None:
            raise NotFound(f"no {kind} {id_!r} (empty log)", hint="it was never written")
        return meta

    def _load_meta(self, kind: str, d: Path) -> RunMeta | SessionMeta | None:
        meta = self._cached_meta(kind, str(d))
        return meta.model_copy() if meta is not None else None

    def _cached_meta(self, kind: str, d: str) -> RunMeta | SessionMeta | None:
        """meta.json parsed once per (mtime, size); shared object, callers copy before mutating."""
        path = d + "/meta.json"
        try:
            st = os.stat(path)
        except OSError:
            return self._rebuild_meta(kind, Path(d))
        cached = self._cache.get(path)
        if cached is not None and cached[0] == st.st_mtime_ns and cached[1] == st.st_size:
            return cached[2]
        meta = read_meta(Path(path), kind)
        if meta is None or meta.id != os.path.basename(d):
            return self._rebuild_meta(kind, Path(d))
        self._cache[path] = (st.st_mtime_ns, st.st_size, meta)
        return meta

    def _rebuild_meta(self, kind: str, d: Path) -> RunMeta | SessionMeta | None:
        events = list(logfile.read_events(d / "events.ndjson"))
        if not events:
            return None
        meta = fold(kind, d.name, events)
        if not is_locked(d / ".lock"):
            try:
                write_meta(d / "meta.json", meta)
            except HarnessError:
                pass  # read-only data dir: listing still works from the log
        return meta

    def list(
        self, kind: Kind, *, status: str | None = None, limit: int | None = None
    ) -> list[RunMeta | SessionMeta]:
        """Newest first (ids sort by creation time), optionally filtered by status.

        Reads only meta.json files, each parsed once per change (a stat per run otherwise);
        never scans a log unless meta.json is missing.
        """
        base = self._kind_dir(kind)
        try:
            names = sorted((e.name for e in os.scandir(base) if e.is_dir()), reverse=True)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise storage_error(base, exc) from None
        out: list[RunMeta | SessionMeta] = []
        root = str(base)
        for name in names:
            if name.startswith("."):
                continue
            d = f"{root}/{name}"
            hub = _HUBS.get(d + "/events.ndjson")
            writer = hub.writer if hub is not None and not hub.closed else None
            if isinstance(writer, EventStream) and writer.meta is not None:
                meta: RunMeta | SessionMeta | None = writer.meta
            else:
                meta = self._cached_meta(kind, d)
            if meta is None or (status is not None and meta.status != status):
                continue
            out.append(meta.model_copy())
            if limit is not None and len(out) >= limit:
                break
        return out

    # ---- recovery and export -------------------------------------------------------------------

    def recover_interrupted(self) -> list[str]:
        """Mark runs/sessions that were in flight when their host died as interrupted.

        Every open approval gets `approval.resolved` (cancelled, "daemon stopped", surface
        `recovery`) and every open tool call a `tool.result` marked interrupted, before the
        `run.interrupted` / `session.interrupted` event (see store/recover.py).

        A stream whose writer lock is held (by a live process, this one included) is left alone.
        """
        done: list[str] = []
        now = datetime.now(UTC)
        for kind, in_flight, type_ in (
            ("run", RUN_IN_FLIGHT, "run.interrupted"),
            ("session", SESSION_IN_FLIGHT, "session.interrupted"),
        ):
            for meta in self.list(kind):  # type: ignore[arg-type]
                if meta.status not in in_flight:
                    continue
                d = self._kind_dir(kind) / meta.id
                if is_locked(d / ".lock"):
                    continue
                if meta.status == "created" and _age(meta.updated_at, now) < STALE_CREATED:
                    continue  # probably being started right now by another host
                try:
                    stream = self.stream(kind, meta.id)  # type: ignore[arg-type]
                except HarnessError:
                    continue  # taken by another host meanwhile, or unreadable
                try:
                    # Close what the dead host left open (approvals, tool calls) first.
                    for t, data, step_id, call_id in closing_events(stream.read()):
                        stream.append_nowait(t, data, step_id=step_id, call_id=call_id)
                    stream.append_nowait(
                        type_,
                        {
                            "reason": "the host stopped while it was in flight",
                            "previous_status": meta.status,
                        },
                    )
                    done.append(meta.id)
                finally:
                    stream.close_sync()
        return done

    def export_run(self, run_id: str, out: Path | None = None) -> Path:
        """Zip of the run (deterministic); default `runs/<id>/export.zip`."""
        return self._export("run", run_id, out)

    def export_session(self, session_id: str, out: Path | None = None) -> Path:
        return self._export("session", session_id, out)

    def _export(self, kind: Kind, id_: str, out: Path | None) -> Path:
        d = self._dir(kind, id_)
        hub = live_hub(str(d / "events.ndjson"))
        if hub is not None:
            hub.flush_os()
        meta = self.get(kind, id_)
        return build_zip(d, meta, Path(out) if out is not None else d / "export.zip")

    def load_data(self, kind: Kind, id_: str, ev: Event) -> dict:
        """Full data of an event whose data was stored as an artifact (oversize)."""
        return EventStream(kind, id_, self._dir(kind, id_), writable=False).load_data(ev)


def _title_from(spec_path: str) -> str:
    """specs/<name>/spec.md and <dir>/<name>.spec.md are both the spec <name>."""
    p = Path(spec_path)
    if p.stem.lower() == "spec" and p.parent.name:
        return p.parent.name
    return p.stem[: -len(".spec")] if p.stem.lower().endswith(".spec") else p.stem


def _age(ts: str, now: datetime) -> float:
    try:
        return (now - datetime.fromisoformat(ts.replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return float("inf")
