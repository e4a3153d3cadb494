"""Per-file tags cached by (size, mtime) so a rebuild on an unchanged repo reads no file.

One JSON file per workspace under `<data_dir>/cache/context/`, written atomically and only when
something changed. A corrupt or foreign-version cache is ignored (and rebuilt), never fatal.
An in-process copy of the last index per workspace makes repeated builds in one daemon cheaper
still.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness_ls.private import private_dir

from .files import FileListing, SourceFile, list_files
from .languages import installed
from .tags import FileTags, extract

log = logging.getLogger(__name__)

CACHE_VERSION = 5
TAG_TIME_LIMIT_S = 60.0
MEMORY_WORKSPACES = 8  # in-process indexes kept (one per workspace)


@dataclass
class RepoIndex:
    """Every mapped file's tags plus what the listing skipped and why."""

    root: Path
    tags: dict[str, FileTags] = field(default_factory=dict)
    listing: FileListing = field(default_factory=FileListing)
    notes: list[str] = field(default_factory=list)
    fingerprint: str = ""
    parsed: int = 0  # files (re)read this build; 0 on a fully warm build
    graph: Any = None  # rank.RepoGraph, built once per index


def cache_path(data_dir: Path, root: Path) -> Path:
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
    return data_dir / "cache" / "context" / f"{root.name or 'root'}-{digest}.json"


def _cache_key() -> str:
    return f"v{CACHE_VERSION}:" + ",".join(installed())


def _load(path: Path) -> dict[str, list]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict) or raw.get("key") != _cache_key():
        return {}
    files = raw.get("files")
    return files if isinstance(files, dict) else {}


def _save(path: Path, entries: dict[str, list]) -> None:
    try:
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ctx-", suffix=".tmp")
        text = json.dumps({"key": _cache_key(), "files": entries}, separators=(",", ":"))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # dumps: json.dump is pure Python
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only data dir only costs speed
        log.warning("context cache not written (%s): %s", path, exc)


_MEMORY: dict[str, tuple[str, RepoIndex]] = {}


def _fingerprint(files: list[SourceFile]) -> str:
    h = hashlib.sha1()
    for f in files:
        h.update(f"{f.rel}\0{f.size}\0{f.mtime_ns}\n".encode())
    return h.hexdigest()


def load_index(root: Path, data_dir: Path | None, *, max_files: int | None = None) -> RepoIndex:
    """Tags for every mapped file of `root`, re-extracting only files whose size/mtime changed."""
    listing = list_files(root) if max_files is None else list_files(root, max_files=max_files)
    fp = _fingerprint(listing.files)
    mem = _MEMORY.get(str(root))
    if mem and mem[0] == fp + _cache_key():
        index = mem[1]
        index.listing, index.parsed = listing, 0
        return index

    path = cache_path(data_dir, root) if data_dir else None
    cached = _load(path) if path else {}
    entries: dict[str, list] = {}
    index = RepoIndex(root=root, listing=listing, fingerprint=fp)
    deadline = time.monotonic() + TAG_TIME_LIMIT_S
    late = 0
    for f in listing.files:
        hit = cached.get(f.rel)
        if hit and hit[0] == f.size and hit[1] == f.mtime_ns:
            try:
                index.tags[f.rel] = FileTags.from_json(hit[2])
                entries[f.rel] = hit
                continue
            except (ValueError, TypeError):
                pass
        if time.monotonic() > deadline:
            late += 1
            index.tags[f.rel] = FileTags(skip="not parsed (time limit)")
            continue
        try:
            data = (root / f.rel).read_bytes()[: f.size + 1]
        except OSError:
            index.tags[f.rel] = FileTags(skip="unreadable")
            continue
        tags = extract(f.rel, data)
        index.tags[f.rel] = tags
        entries[f.rel] = [f.size, f.mtime_ns, tags.to_json()]
        index.parsed += 1
    if late:
        index.notes.append(f"{late} files not parsed: tag extraction time limit reached")
    if path and (index.parsed or len(entries) != len(cached)):
        _save(path, entries)
    if len(_MEMORY) >= MEMORY_WORKSPACES and str(root) not in _MEMORY:
        _MEMORY.pop(next(iter(_MEMORY)))  # oldest workspace first
    _MEMORY[str(root)] = (fp + _cache_key(), index)
    return index


def clear_memory() -> None:
    """Forget in-process indexes (tests and benchmarks measuring the on-disk cache)."""
    _MEMORY.clear()
