"""What git history says about a task: files that change together, and commits like this one.

Two features for the ranking, both from `git log` of the commits reachable from HEAD (so, when
the benchmark checks out a commit's parent, only commits before the task can be seen):
- **similar commits**: BM25 of the task against past commit messages; the files the best
  matching commits touched score by similarity, split among each commit's files.
- **co-change**: for files the task already points at, how often each other file changed in the
  same commit (P(other | seed changed)).
Shallow clones simply have fewer commits; a repo with no commits (or no git) has no history and
both features are zero, with a note. Sweeping commits (> MAX_COMMIT_FILES files) are ignored:
they say nothing about which files belong together. Parsed logs are kept per (root, HEAD) in
memory and, given a data dir, on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import math
import os
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness_ls.errors import HarnessError
from harness_ls.gitrun import repo_or_none, workspace_git
from harness_ls.private import private_dir

from .bm25 import BM25, terms

log = logging.getLogger(__name__)

MAX_COMMITS = 2000
HISTORY_VERSION = 1  # of the saved log's form
MAX_COMMIT_FILES = 30
MIN_COMMITS = 2  # a single usable commit says nothing about which files change together
SIMILAR_COMMITS = 20  # best-matching past commits whose files get credit
_MEMORY: dict[str, History] = {}
_MEMORY_MAX = 16


@dataclass
class History:
    """Past commits (newest first): message terms and touched files."""

    head: str = ""
    files: list[list[str]] = field(default_factory=list)
    touched: dict[str, list[int]] = field(default_factory=dict)  # file -> commit indexes
    messages: BM25 | None = None
    note: str = ""
    churn: dict[str, float] | None = None  # file -> changes in the last CHURN_COMMITS, log-scaled

    @property
    def empty(self) -> bool:
        return not self.files


def _git(root: Path, *args: str, timeout: float = 10.0) -> str | None:
    try:
        out = workspace_git(root).run(*args, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired, HarnessError):
        return None
    return os.fsdecode(out.stdout) if out.returncode == 0 else None


def load_history(
    root: Path, *, max_commits: int = MAX_COMMITS, data_dir: Path | None = None
) -> History:
    """The last `max_commits` non-merge commits of HEAD, cached in memory per HEAD and, with a
    `data_dir`, on disk (a new process then skips the `git log`, ~0.1 s CPU on a large repo)."""
    head, common = _head(root)
    if not head:
        return History(note="no git history: history features skipped")
    key = f"{root}\0{head}\0{max_commits}"
    hit = _MEMORY.get(key)
    if hit is not None:
        return hit
    # what the log depends on: HEAD, the limits, and a shallow clone's boundary (a deepened
    # clone keeps its HEAD but gains history)
    stamp = [HISTORY_VERSION, head, max_commits, MAX_COMMIT_FILES, _shallow_stamp(root, common)]
    path = _saved_path(data_dir, root) if data_dir else None
    saved = _read_saved(path, stamp) if path else None
    if saved is not None:
        files, docs = saved
    else:
        files, docs = _from_git(root, max_commits)
        if path:
            _write_saved(path, stamp, files, docs)
    if len(files) < MIN_COMMITS:  # one commit (a fresh `git init` of a tree) is no history
        files, docs = [], []
    hist = History(head=head, files=files)
    for idx, touched in enumerate(files):
        for f in touched:
            hist.touched.setdefault(f, []).append(idx)
    if files:
        hist.messages = BM25(docs)
    else:
        hist.note = "git history has no usable commits: history features skipped"
    if len(_MEMORY) >= _MEMORY_MAX:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[key] = hist
    return hist


def _head(root: Path) -> tuple[str, str]:
    """(HEAD commit, git common dir); ("", "") without commits or git."""
    loc = repo_or_none(root)
    out = (_git(root, "rev-parse", "HEAD") or "").split() if loc else []
    return (out[0], str(loc.common_dir)) if loc and len(out) == 1 else ("", "")


def _shallow_stamp(root: Path, common: str) -> list[int]:
    try:
        st = os.stat(Path(root, common, "shallow"))
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns]


def _from_git(root: Path, max_commits: int) -> tuple[list[list[str]], list[list[str]]]:
    """(files per commit, message terms per commit), newest first, sweeping commits left out."""
    log = _git(
        root, "log", f"-n{max_commits}", "--no-merges", "--no-renames", "--name-only",
        "--format=%x00%s%n%b%x01", "HEAD",
    )  # fmt: skip
    files: list[list[str]] = []
    docs: list[list[str]] = []
    for block in (log or "").split("\0"):
        if "\x01" not in block:
            continue
        msg, _, names = block.partition("\x01")
        touched = [n for n in names.splitlines() if n.strip()]
        if not touched or len(touched) > MAX_COMMIT_FILES:
            continue
        files.append(touched)
        docs.append(terms(msg[:2000]))
    return files, docs


def _saved_path(data_dir: Path, root: Path) -> Path:
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
    return data_dir / "cache" / "context" / f"{root.name or 'root'}-{digest}.history"


def _read_saved(path: Path, stamp: list[Any]) -> tuple[list[list[str]], list[list[str]]] | None:
    """The saved log for exactly this stamp, or None (missing, stale, damaged, not private)."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            raw = marshal.loads(fh.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(raw, dict) or raw.get("stamp") != stamp:
        return None
    files, docs = raw.get("files"), raw.get("docs")
    if not isinstance(files, list) or not isinstance(docs, list) or len(files) != len(docs):
        return None
    return files, docs


def _write_saved(path: Path, stamp: list[Any], files: list, docs: list) -> None:
    tmp = ""
    try:
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hist-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(marshal.dumps({"stamp": stamp, "files": files, "docs": docs}))
        os.replace(tmp, path)
    except OSError as exc:  # a read-only data dir only costs speed
        log.warning("git history not cached (%s): %s", path, exc)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def similar_commit_files(
    hist: History,
    words: list[str],
    peak: dict[str, float] | None = None,
    weights: dict[str, float] | None = None,
) -> dict[str, float]:
    """file -> credit from the past commits whose messages best match the task's words, summed
    over those commits and split among each commit's files. `peak`, if given, receives each
    file's best single-commit similarity (relative to the best match overall, not split)."""
    if hist.messages is None or not words:
        return {}
    scores = hist.messages.scores(words, weights)
    top = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:SIMILAR_COMMITS]
    best = scores[top[0]] if top else 0.0
    out: dict[str, float] = {}
    if best <= 0:
        return out
    for c in top:
        if scores[c] <= 0:
            break
        files = hist.files[c]
        rel = scores[c] / best
        share = rel / len(files) ** 0.5
        for f in files:
            out[f] = out.get(f, 0.0) + share
            if peak is not None:
                peak[f] = max(peak.get(f, 0.0), rel)
    return out


def cochange(hist: History, seeds: dict[str, float]) -> dict[str, float]:
    """file -> sum over seed files s of weight(s) * P(file changed | s changed)."""
    out: dict[str, float] = {}
    for s, w in seeds.items():
        commits = hist.touched.get(s)
        if not commits:
            continue
        per = w / len(commits)
        for c in commits:
            for f in hist.files[c]:
                if f != s:
                    out[f] = out.get(f, 0.0) + per
    return out


CHURN_COMMITS = 300


def churn(hist: History) -> dict[str, float]:
    """file -> log(1 + commits touching it among the newest CHURN_COMMITS) over the busiest
    file's: a task-free prior (files that changed often are likelier to change again)."""
    if hist.churn is None:
        counts: dict[str, int] = {}
        for files in hist.files[:CHURN_COMMITS]:
            for f in files:
                counts[f] = counts.get(f, 0) + 1
        top = math.log1p(max(counts.values(), default=0)) or 1.0
        hist.churn = {f: math.log1p(c) / top for f, c in counts.items()}
    return hist.churn


def clear_memory() -> None:
    _MEMORY.clear()
