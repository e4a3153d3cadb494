"""The workspace facts the sandbox needs on every call: secret files and git metadata, cached.

A full walk per shell call would cost tens of milliseconds on a large repository, so the walk is
kept and revalidated: each known directory is `stat`ed and only those whose mtime changed (an
entry was added, removed or renamed in it) are listed again. A directory modified within the
filesystem's timestamp granularity of the walk is "racy" (as in git's index) and is always listed
again, so a file created just after a walk is never missed.

Skipped: `.git` internals (git metadata is protected as a whole), dependency and build trees that
hold no user secrets (`node_modules`, virtualenvs, caches, `target`), and symlinked directories.
Past MAX_DIRS directories (breadth first) the walk stops: deeper secret files are not masked.
Revalidation costs about a `stat` per directory (~1 µs; a 3,000-directory tree ≈ 3–5 ms idle).
Values in the secret files found are registered for masking (`harness_ls.secrets`).
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from harness_ls.secrets import register_secret
from harness_ls.tools.secretfiles import is_secret_dir, is_secret_path, values_in

SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", "target", ".gradle", ".next", ".cache", ".hg", ".svn"}
)  # fmt: skip
RACY_NS = 2_000_000_000  # mtimes this close to the walk are not trusted (coarse fs clocks)
MAX_DIRS = 20_000  # beyond this the walk stops and says so (`complete = False`)
MAX_VALUE_FILE = 256 * 1024
_CACHE_SIZE = 16


@dataclass
class _Dir:
    full: str
    mtime_ns: int
    racy: bool
    subdirs: list[str]
    secrets: list[str]  # secret files (and secret dirs) directly in this directory
    gits: list[str]  # `.git` entries (dirs or files) directly in this directory
    outside: list[str]  # outside targets (absolute) of secret-named symlinks here


@dataclass(frozen=True)
class Scan:
    """What one revalidation found (workspace-relative posix paths)."""

    secrets: tuple[str, ...]  # secret files, and directories the user's patterns name
    secret_dirs: frozenset[str]
    gits: tuple[str, ...]  # every `.git` (dir or file) outside the skipped trees
    complete: bool = True
    outside: tuple[str, ...] = ()  # absolute files outside the workspace a `.env` link reaches


@dataclass
class _State:
    root: str
    extra: tuple[str, ...]
    dirs: dict[str, _Dir] = field(default_factory=dict)
    values: dict[str, tuple[int, int]] = field(default_factory=dict)  # file -> (size, mtime)
    complete: bool = True
    result: Scan | None = None  # the last answer, while no directory changed
    lock: threading.Lock = field(default_factory=threading.Lock)


_states: OrderedDict[tuple[str, tuple[str, ...]], _State] = OrderedDict()
_states_lock = threading.Lock()


def _state(root: str, extra: tuple[str, ...]) -> _State:
    key = (root, extra)
    with _states_lock:
        st = _states.get(key)
        if st is None:
            st = _states[key] = _State(root, extra)
            while len(_states) > _CACHE_SIZE:
                _states.popitem(last=False)
        _states.move_to_end(key)
        return st


def scan(workspace: Path | str, extra: tuple[str, ...] = ()) -> Scan:
    """Secret files and `.git` entries in `workspace`, revalidated against the disk now."""
    root = os.path.realpath(workspace)
    st = _state(root, tuple(extra))
    with st.lock:
        if _revalidate(st) or st.result is None:
            secrets = sorted({s for d in st.dirs.values() for s in d.secrets})
            gits = sorted(g for d in st.dirs.values() for g in d.gits)
            outside = sorted({o for d in st.dirs.values() for o in d.outside})
            secret_dirs = frozenset(s for s in secrets if is_secret_dir(s, st.extra))
            st.result = Scan(tuple(secrets), secret_dirs, tuple(gits), st.complete, tuple(outside))
        res = st.result
        _register_values(st, [s for s in res.secrets if s not in res.secret_dirs] + [*res.outside])
        return res


def forget(workspace: Path | str | None = None) -> None:
    """Drop cached walks (all, or one workspace's): tests and a changed pattern list."""
    with _states_lock:
        if workspace is None:
            _states.clear()
            return
        root = os.path.realpath(workspace)
        for key in [k for k in _states if k[0] == root]:
            del _states[key]


def _revalidate(st: _State) -> bool:
    """Bring the cached walk up to date; True when anything was listed again."""
    now = time.time_ns()
    if not st.dirs:
        _walk(st, [""], now)
        return True
    changed = False
    for rel in list(st.dirs):
        known = st.dirs.get(rel)
        if known is None:
            continue  # dropped with its parent
        try:
            info = os.stat(known.full, follow_symlinks=False)
        except OSError:
            info = None
        if info is None or not stat.S_ISDIR(info.st_mode):
            _drop(st, rel)
            changed = True
            continue
        if not known.racy and known.mtime_ns == info.st_mtime_ns:
            continue
        changed = True
        fresh = _list(st, rel, known.full, info.st_mtime_ns, now)
        if fresh is None:
            _drop(st, rel)
            continue
        st.dirs[rel] = fresh
        for gone in set(known.subdirs) - set(fresh.subdirs):
            _drop(st, gone)
        _walk(st, [d for d in fresh.subdirs if d not in st.dirs], now)
    return changed


def _walk(st: _State, start: list[str], now: int) -> None:
    """List new directories, breadth first: past the cap, the shallow ones are covered."""
    todo = deque(start)
    while todo:
        rel = todo.popleft()
        if rel in st.dirs:
            continue
        if len(st.dirs) >= MAX_DIRS:
            st.complete = False
            return
        full = os.path.join(st.root, rel) if rel else st.root
        try:
            mtime = os.stat(full, follow_symlinks=False).st_mtime_ns
        except OSError:
            continue
        known = _list(st, rel, full, mtime, now)
        if known is not None:
            st.dirs[rel] = known
            todo += known.subdirs


def _drop(st: _State, rel: str) -> None:
    st.dirs.pop(rel, None)
    prefix = rel + "/" if rel else ""
    for key in [k for k in st.dirs if k.startswith(prefix)] if prefix else list(st.dirs):
        del st.dirs[key]


def _list(st: _State, rel: str, full: str, mtime: int, now: int) -> _Dir | None:
    subdirs: list[str] = []
    secrets: list[str] = []
    gits: list[str] = []
    outside: list[str] = []
    try:
        with os.scandir(full) as it:
            entries = list(it)
    except OSError:
        return None
    names = {e.name for e in entries}
    skip_all = "pyvenv.cfg" in names and rel != ""  # a virtualenv under another name
    for e in entries:
        child = f"{rel}/{e.name}" if rel else e.name
        if e.name == ".git":
            gits.append(child)
            continue
        try:
            is_dir = e.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if is_secret_dir(child, st.extra):
                secrets.append(child)
            elif e.name not in SKIP_DIRS and not skip_all:
                subdirs.append(child)
        elif is_secret_path(child, st.extra):
            if not e.is_symlink():
                secrets.append(child)
                continue
            real = os.path.realpath(os.path.join(full, e.name))  # `.env -> config/settings`:
            if os.path.isfile(real):  # what it points to is the secret, masked where it lives
                inside = real.startswith(st.root + os.sep)
                (secrets if inside else outside).append(
                    os.path.relpath(real, st.root) if inside else real
                )
    return _Dir(full, mtime, now - mtime < RACY_NS, subdirs, secrets, gits, outside)


def _register_values(st: _State, files: list[str]) -> None:
    """Mask the values of new or changed secret files from now on."""
    for rel in files:
        path = os.path.join(st.root, rel)
        try:
            info = os.stat(path, follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue  # a FIFO named .env would block the reader
        key = (info.st_size, info.st_mtime_ns)
        if st.values.get(rel) == key:
            continue
        st.values[rel] = key
        if info.st_size > MAX_VALUE_FILE:
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as fh:
                text = fh.read(MAX_VALUE_FILE).decode("utf-8", errors="replace")
        except OSError:
            continue
        for value in values_in(text):
            register_secret(value)
