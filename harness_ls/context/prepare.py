"""What a build needs besides the task, each from the fastest place it can come from.

- the ranking graph: the index's in-memory copy, else the one saved next to the tags (same
  generation, same code), else built and saved;
- git features (status, recent commits, the history log): on a thread, so their subprocesses'
  wall time overlaps the tag parse instead of following it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from .cache import RepoIndex, load_graph, save_graph
from .history import History, load_history
from .rank import RepoGraph, build_graph
from .recent import recent_files


def git_features(root: Path, ddir: Path) -> tuple[dict[str, float], History]:
    return recent_files(root), load_history(root, data_dir=ddir)


class Background:
    """One call run on a daemon thread: git's wall time (a few subprocesses, `git log` of up to
    2000 commits) overlaps the tag parse instead of following it."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._out: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self._out.append((True, fn(*args)))
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._out.append((False, exc))

    def result(self) -> Any:
        self._thread.join()
        ok, value = self._out[0]
        if not ok:
            raise value
        return value


@cache
def graph_code_key() -> str:
    """Hash of this package's code: a saved graph is only reused by the code that built it."""
    h = hashlib.sha1()
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()


def repo_graph(index: RepoIndex, ddir: Path) -> RepoGraph:
    """The ranking graph: in memory, else saved next to the tags, else built (and saved)."""
    if index.graph is None:
        index.graph = load_graph(index, ddir, graph_code_key())
    if index.graph is None:
        index.require_full()  # references and words: only the graph build reads them
        save_graph(index, ddir, graph_code_key(), build_graph(index))
    return build_graph(index)
