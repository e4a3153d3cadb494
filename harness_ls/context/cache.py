"""Per-file tags cached by (size, mtime) so a rebuild on an unchanged repo reads no file.

Per workspace under `<data_dir>/cache/context/`, written atomically and only when something
changed, each write with a fresh generation id:
- `<name>.tags`: a header, then two marshal sections: what the map shows (definitions, line
  counts, skip reasons) and what only the graph needs (references, search words). A warm
  build whose graph is saved reads just the first.
- `<name>.graph`: the task-independent ranking graph built from that generation (keyed by the
  generation and a hash of the code that builds it), so a warm build in a new process loads it
  instead of rebuilding it (the graph cost more than half of such a build).
A corrupt, half-written, foreign-version or foreign-owned cache is ignored (and rebuilt), never
fatal; caches are only read from files this user owns and only it can write (the data dir is
owner-only). An in-process copy of the last index per workspace makes repeated builds in one
daemon cheaper still.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import marshal
import os
import pickle
import stat
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness_ls.private import private_dir

from .background import Background
from .files import FileListing, SourceFile, list_files
from .languages import installed
from .parse import parse_files
from .tags import FileTags

log = logging.getLogger(__name__)

CACHE_VERSION = 8  # 8: definitions as per-file blobs; 7: words counted; 6: two sections
MAGIC = b"harness-ls context tags\n"
TAG_TIME_LIMIT_S = 60.0
MEMORY_WORKSPACES = 8  # in-process indexes kept (one per workspace)

Light = tuple  # (size, mtime_ns, lang, skip, lines, marshalled defs, outline, lossy)
Heavy = tuple  # (refs, words)


@dataclass
class RepoIndex:
    """Every mapped file's tags plus what the listing skipped and why.

    From `load_index(..., full=False)` the cached files' `refs` and `words` stay empty until
    `require_full()`: only the graph build reads them, and a saved graph makes them unneeded."""

    root: Path
    tags: dict[str, FileTags] = field(default_factory=dict)
    listing: FileListing = field(default_factory=FileListing)
    notes: list[str] = field(default_factory=list)
    fingerprint: str = ""
    parsed: int = 0  # files (re)read this build; 0 on a fully warm build
    graph: Any = None  # rank.RepoGraph, built once per index
    generation: str = ""  # id of the on-disk tags this index equals ("" when it has none)
    pending: Callable[[], None] | None = None  # fills in refs/words of cached files
    memo: dict[str, Any] = field(default_factory=dict)  # task-free work of the map, by kind

    def require_full(self) -> None:
        """Load the references and search words the graph needs (no-op when present)."""
        if self.pending is not None:
            fill, self.pending = self.pending, None
            fill()


def cache_path(data_dir: Path, root: Path) -> Path:
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
    return data_dir / "cache" / "context" / f"{root.name or 'root'}-{digest}.tags"


def graph_path(data_dir: Path, root: Path) -> Path:
    return cache_path(data_dir, root).with_suffix(".graph")


def _cache_key() -> str:
    return f"v{CACHE_VERSION}:" + ",".join(installed())


def _read_private(path: Path, start: int = 0, size: int = -1) -> bytes:
    """Bytes [start, start+size) of a cache file this user owns and only it can write; b""
    otherwise (missing, unreadable, or writable by others)."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                log.warning("context cache %s ignored: not private to this user", path)
                return b""
            fh.seek(start)
            return fh.read(size)
    except OSError:
        return b""


def _write(path: Path, chunks: list[bytes]) -> bool:
    tmp = ""
    try:
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ctx-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
        return True
    except OSError as exc:  # a read-only data dir only costs speed
        log.warning("context cache not written (%s): %s", path, exc)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


HEAD = len(MAGIC) + 8  # magic, then the first section's length


def _load(path: Path) -> tuple[dict[str, Light], str, Callable[[], dict[str, Heavy]]]:
    """(rel -> light entry, generation, loader of rel -> heavy entry) of the tags file. The
    loader reads the second section only when called, and only if the file still holds the
    same generation (else it returns {} and the caller re-parses)."""
    none: tuple[dict[str, Light], str, Callable[[], dict[str, Heavy]]] = ({}, "", dict)
    head = _read_private(path, 0, HEAD)
    if len(head) != HEAD or not head.startswith(MAGIC):
        return none
    n = int.from_bytes(head[len(MAGIC) :], "little")
    first = _read_private(path, HEAD, n)
    try:
        raw = marshal.loads(first) if len(first) == n else None
    except (ValueError, EOFError, TypeError):
        return none
    if not isinstance(raw, dict) or raw.get("key") != _cache_key():
        return none
    files, gen = raw.get("files"), raw.get("generation")
    if not isinstance(files, dict) or not isinstance(gen, str):
        return none

    def heavy() -> dict[str, Heavy]:
        try:
            out = marshal.loads(_read_private(path, HEAD + n))
        except (ValueError, EOFError, TypeError):
            return {}
        ok = isinstance(out, tuple) and len(out) == 2 and out[0] == gen
        return out[1] if ok and isinstance(out[1], dict) else {}

    return files, gen, heavy


def _save(path: Path, gen: str, tags: dict[str, tuple[int, int, FileTags]]) -> bool:
    light, heavy = {}, {}
    for rel, (size, mtime, t) in tags.items():
        light[rel] = (size, mtime, t.lang, t.skip, t.lines, t.defs_blob(), t.outline, t.lossy)
        heavy[rel] = (t.refs, t.words)
    first = marshal.dumps({"key": _cache_key(), "generation": gen, "files": light})
    second = marshal.dumps((gen, heavy))
    return _write(path, [MAGIC, len(first).to_bytes(8, "little"), first, second])


def _from_light(e: Light) -> FileTags | None:
    """The tags of a cache entry (definitions still a blob), or None when it is malformed."""
    if len(e) != 8 or not isinstance(e[5], bytes):
        return None
    return FileTags.cached(e[2], e[3], e[4], e[5], e[6], e[7])


def _filler(
    root: Path, tags: dict[str, FileTags], files: list[SourceFile], heavy: Callable[[], dict]
) -> Callable[[], None]:
    """Loader of the cached files' references and words; a file whose entry is missing or
    malformed (a damaged second section) is parsed again rather than left without them."""

    def fill() -> None:
        bodies = heavy()
        redo = []
        for f in files:
            body = bodies.get(f.rel)
            if isinstance(body, tuple) and len(body) == 2 and isinstance(body[0], dict):
                tags[f.rel].refs, tags[f.rel].words = body
            else:
                redo.append(f)
        deadline = time.monotonic() + TAG_TIME_LIMIT_S
        for f, t in zip(redo, parse_files(root, redo, deadline), strict=True):
            if t is not None:
                tags[f.rel].__dict__.update(t.__dict__)

    return fill


_MEMORY: dict[str, tuple[str, RepoIndex]] = {}


def _fingerprint(files: list[SourceFile]) -> str:
    lines = [f"{rel}\0{size}\0{mtime}\n" for rel, size, mtime in files]
    return hashlib.sha1("".join(lines).encode()).hexdigest()  # one update: the same digest


def _read_caches(
    path: Path, data_dir: Path, root: Path, graph_key: str | None
) -> tuple[tuple[dict[str, Light], str, Callable[[], dict[str, Heavy]]], Any]:
    """The tags file's first section and, given the graph code's key, the graph saved for it."""
    loaded = _load(path)
    gen = loaded[1]
    return loaded, _graph_at(data_dir, root, gen, graph_key) if gen and graph_key else None


def load_index(
    root: Path,
    data_dir: Path | None,
    *,
    max_files: int | None = None,
    full: bool = True,
    graph_key: str | None = None,
) -> RepoIndex:
    """Tags for every mapped file of `root`, re-extracting only files whose size/mtime changed.

    `full=False` leaves the cached files' references and search words unloaded until
    `index.require_full()` (the caller has the graph already). With `graph_key` (the graph
    code's), the first build of `root` in this process also reads the saved graph, and both
    files are read on a thread while git lists the files; the graph is kept only if the index
    is the generation it was saved for."""
    path = cache_path(data_dir, root) if data_dir else None
    early = None
    if path and data_dir and str(root) not in _MEMORY:
        early = Background(_read_caches, path, data_dir, root, graph_key)
    limit = {} if max_files is None else {"max_files": max_files}
    listing = list_files(root, data_dir=data_dir, **limit)
    fp = _fingerprint(listing.files)
    mem = _MEMORY.get(str(root))
    if mem and mem[0] == fp + _cache_key():
        index = mem[1]
        index.listing, index.parsed = listing, 0
        if full:
            index.require_full()
        return index

    graph = None
    if early is not None:
        (cached, gen, heavy), graph = early.result()
    else:
        cached, gen, heavy = _load(path) if path else ({}, "", dict)
    loaded_gen = gen
    index = RepoIndex(root=root, listing=listing, fingerprint=fp)
    hit_tags: dict[str, FileTags] = {}
    hits: list[SourceFile] = []
    todo: list[SourceFile] = []
    for f in listing.files:
        hit = cached.get(f.rel)
        if isinstance(hit, tuple) and hit[:2] == f[1:]:  # (size, mtime_ns) unchanged
            tags = _from_light(hit)
            if tags is not None:
                hit_tags[f.rel] = tags
                hits.append(f)
                continue
        todo.append(f)
    index.pending = _filler(root, hit_tags, hits, heavy)
    late = 0
    deadline = time.monotonic() + TAG_TIME_LIMIT_S
    fresh: dict[str, FileTags] = {}
    parsed: list[tuple[SourceFile, FileTags]] = []
    for f, tags in zip(todo, parse_files(root, todo, deadline), strict=True):
        if tags is None:
            late += 1
            tags = FileTags(skip="not parsed (time limit)")
        elif tags.skip != "unreadable":
            parsed.append((f, tags))
        fresh[f.rel] = tags
    index.parsed = len(parsed)
    if fresh:  # in listing order, re-parsed files in their place
        index.tags = {f.rel: fresh.get(f.rel) or hit_tags[f.rel] for f in listing.files}
    else:  # a fully warm build: every file's tags came from the cache, in listing order
        index.tags = hit_tags
    if late:
        index.notes.append(f"{late} files not parsed: tag extraction time limit reached")
    if path and (index.parsed or len(hits) != len(cached)):
        index.require_full()  # the rewrite needs every file's references
        kept = {f.rel: (f.size, f.mtime_ns, hit_tags[f.rel]) for f in hits}
        kept.update((f.rel, (f.size, f.mtime_ns, tags)) for f, tags in parsed)
        gen = uuid.uuid4().hex
        if not _save(path, gen, kept):
            gen = ""
        with contextlib.suppress(OSError):  # the JSON cache of versions <= 5: dead weight
            path.with_suffix(".json").unlink()
    index.generation = gen if not late else ""
    if graph is not None and index.generation == loaded_gen:  # not rewritten: still its graph
        index.graph = graph
    if full:
        index.require_full()
    if len(_MEMORY) >= MEMORY_WORKSPACES and str(root) not in _MEMORY:
        _MEMORY.pop(next(iter(_MEMORY)))  # oldest workspace first
    _MEMORY[str(root)] = (fp + _cache_key(), index)
    return index


def load_graph(index: RepoIndex, data_dir: Path | None, code_key: str) -> Any:
    """The graph saved for exactly this index generation and graph code, or None."""
    if not data_dir or not index.generation:
        return None
    return _graph_at(data_dir, index.root, index.generation, code_key)


def _graph_at(data_dir: Path, root: Path, generation: str, code_key: str) -> Any:
    blob = _read_private(graph_path(data_dir, root))
    try:
        raw = pickle.loads(blob) if blob else None
    except Exception as exc:  # truncated, garbled, or classes that changed since
        log.info("context graph cache ignored (%s): rebuilding", type(exc).__name__)
        return None
    want = (_cache_key(), generation, code_key)
    if not isinstance(raw, tuple) or len(raw) != 2 or raw[0] != want:
        return None
    return raw[1]


def save_graph(index: RepoIndex, data_dir: Path | None, code_key: str, graph: Any) -> None:
    if not data_dir or not index.generation:
        return
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.fast = True  # no memo: 4x faster, and the graph has no cycles
    try:
        pickler.dump(((_cache_key(), index.generation, code_key), graph))
    except (pickle.PicklingError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        log.warning("context graph not cached: %s", exc)
        return
    _write(graph_path(data_dir, index.root), [buf.getvalue()])


def clear_memory() -> None:
    """Forget in-process indexes (tests and benchmarks measuring the on-disk cache)."""
    _MEMORY.clear()
