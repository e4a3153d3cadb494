"""Reading and repairing events.ndjson: complete lines only, bad lines skipped, torn tails cut.

Readers consume only up to the last newline, so a line a writer (in any process) is still
writing is never seen half-done. The writer repairs the file on open (`scan` + `cut_tail`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness_ls.private import open_private
from harness_ls.store.events import Event
from harness_ls.store.meta import Folder, RunMeta, SessionMeta, storage_error

CHUNK = 1 << 20


_validate_json = Event.__pydantic_validator__.validate_json


def parse_line(raw: bytes) -> Event | None:
    """One log line → Event, or None when it is not a valid event line."""
    try:
        return _validate_json(raw)
    except (ValidationError, ValueError):
        return None


@dataclass
class BadLine:
    offset: int
    excerpt: str


@dataclass
class Scan:
    """What the writer learns on open: the good end of the file, bad lines, the folded meta."""

    meta: RunMeta | SessionMeta
    bad: list[BadLine] = field(default_factory=list)
    warned: set[int] = field(default_factory=set)  # offsets already reported by store.warning
    last_seq: int = 0
    good_end: int = 0  # offset just after the last newline
    size: int = 0


def iter_chunks(fh, start: int = 0) -> Iterator[tuple[int, list[bytes]]]:
    """(offset of the first line, complete lines) per ~1 MiB read, from `start` to the last
    newline; a trailing partial line is left for later."""
    pos = start
    want = CHUNK
    while True:
        fh.seek(pos)
        data = fh.read(want)
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) < want:
                return  # only a partial line (or nothing) left
            want *= 2  # a line longer than the chunk
            continue
        yield pos, data[:end].split(b"\n")
        pos += end + 1
        want = CHUNK


def scan(path: Path, kind: str, id_: str) -> Scan:
    """Parse the whole log once (writer open): fold meta, find bad lines and a torn tail."""
    folder = Folder(kind, id_)
    out = Scan(meta=folder.meta)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return out
    with fh:
        out.size = os.fstat(fh.fileno()).st_size
        last = 0
        for off, lines in iter_chunks(fh):
            for line in lines:
                start, off = off, off + len(line) + 1
                if not line.strip():
                    continue
                try:
                    ev = _validate_json(line)
                except (ValidationError, ValueError):
                    out.bad.append(BadLine(start, line[:200].decode("utf-8", "replace")))
                    continue
                if ev.seq > last:  # duplicates / regressions (hand edits) are skipped
                    last = ev.seq
                    folder.add(ev)
                    if ev.type == "store.warning" and isinstance(ev.data.get("offset"), int):
                        out.warned.add(ev.data["offset"])
            out.good_end = off
        out.last_seq = last
    out.meta = folder.done()
    return out


def cut_tail(path: Path, good_end: int, corrupt_path: Path) -> int:
    """Move bytes after `good_end` (a torn last line) to `corrupt_path`; return bytes cut."""
    with open(path, "r+b") as fh:
        fh.seek(good_end)
        torn = fh.read()
        if not torn:
            return 0
        with os.fdopen(open_private(corrupt_path, os.O_WRONLY | os.O_APPEND), "ab") as bad:
            bad.write(torn + b"\n")
            bad.flush()
            os.fsync(bad.fileno())
        fh.truncate(good_end)
        fh.flush()
        os.fsync(fh.fileno())
    return len(torn)


def repair(
    path: Path, kind: str, id_: str
) -> tuple[Scan, dict[str, Any] | None, list[tuple[str, dict[str, Any]]]]:
    """Scan the log before a writer opens it: cut a torn tail into `events.ndjson.corrupt`.

    Returns the scan, the `store.recovered` data (or None) and the repair events the writer must
    append: `store.recovered` for a cut tail, one `store.warning` per unreadable middle line not
    warned about before."""
    found = scan(path, kind, id_)
    todo: list[tuple[str, dict[str, Any]]] = []
    recovered = None
    if found.size > found.good_end:
        corrupt = path.with_name("events.ndjson.corrupt")
        try:
            cut = cut_tail(path, found.good_end, corrupt)
        except OSError as exc:
            raise storage_error(path, exc) from None
        recovered = {"cut_bytes": cut, "corrupt_path": corrupt.name, "last_seq": found.last_seq}
        todo.append(("store.recovered", recovered))
    for bad in found.bad:
        if bad.offset not in found.warned:
            message = f"skipped an unreadable line at byte {bad.offset} of {path.name}"
            todo.append(
                (
                    "store.warning",
                    {"message": message, "offset": bad.offset, "excerpt": bad.excerpt},
                )
            )
    return found, recovered, todo


def seek_after(fh, after: int, size: int) -> int:
    """Byte offset of a line boundary at or before the first event with seq > after.

    Binary search over line starts (seq is monotonic in the file); a cheap way to read the tail
    of a long log. Falls back to 0 on anything unexpected.
    """
    if after <= 0 or size < CHUNK:
        return 0
    lo, hi = 0, size
    best = 0
    for _ in range(64):
        if hi - lo < 64 * 1024:
            break
        mid = (lo + hi) // 2
        fh.seek(mid)
        fh.readline()  # skip to the next line start
        start = fh.tell()
        line = fh.readline()
        if not line.endswith(b"\n"):
            hi = mid
            continue
        ev = parse_line(line)
        if ev is None:
            break
        if ev.seq <= after:
            best = start
            lo = mid
        else:
            hi = mid
    return best


def read_events(path: Path, after: int = 0, start: int | None = None) -> Iterator[Event]:
    """Events with seq > after, in order, skipping bad lines; stops at the last complete line."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    with fh:
        size = os.fstat(fh.fileno()).st_size
        begin = seek_after(fh, after, size) if start is None else start
        last = after
        for _off, lines in iter_chunks(fh, begin):
            for line in lines:
                if not line:
                    continue
                try:
                    ev = _validate_json(line)
                except (ValidationError, ValueError):
                    continue
                if ev.seq > last:
                    last = ev.seq
                    yield ev


def last_seq_of(path: Path) -> int:
    """The seq of the last complete, valid line, reading only the file's tail when possible."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return 0
    with fh:
        size = os.fstat(fh.fileno()).st_size
        back = 64 * 1024
        while True:
            start = max(0, size - back)
            fh.seek(start)
            buf = fh.read(size - start)
            end = buf.rfind(b"\n")
            lines = buf[:end].split(b"\n") if end >= 0 else []
            if start > 0:
                lines = lines[1:]  # the first piece may be a partial line
            for line in reversed(lines):
                ev = parse_line(line)
                if ev is not None:
                    return ev.seq
            if start == 0:
                return 0
            back *= 4
