"""What a build needs besides the task, each from the fastest place it can come from.

- the ranking graph: the index's in-memory copy, else the one saved next to the tags (same
  generation, same code), else built and saved;
- git features (status, recent commits, the history log): on a thread, so their subprocesses'
  wall time overlaps the tag parse instead of following it.
"""

from __future__ import annotations

import copy
import hashlib
from functools import cache
from pathlib import Path

from .cache import RepoIndex, load_graph, load_index, save_graph
from .history import History, load_history
from .lazymap import LazyMap
from .rank import RepoGraph, build_graph
from .recent import recent_files


def git_features(root: Path, ddir: Path) -> tuple[dict[str, float], History]:
    return recent_files(root), load_history(root, data_dir=ddir)


@cache
def graph_code_key() -> str:
    """Hash of this package's code: a saved graph is only reused by the code that built it."""
    h = hashlib.sha1()
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()


LOOKUP_TABLES = ("definers", "lower_definers", "users", "basenames")  # only looked up by name
BM25_FIELDS = ("docs", "path_docs", "def_docs")


def for_disk(graph: RepoGraph) -> RepoGraph:
    """The graph as saved: a copy whose large lookup-only tables (name -> files, BM25 term ->
    postings and idf) are LazyMaps, so a new process decodes only the entries the task looks up."""
    out = copy.copy(graph)
    for name in LOOKUP_TABLES:
        setattr(out, name, LazyMap(getattr(graph, name)))
    for name in BM25_FIELDS:
        docs = copy.copy(getattr(graph, name))
        docs.postings, docs.idf = LazyMap(docs.postings), LazyMap(docs.idf)
        setattr(out, name, docs)
    return out


def repo_index(root: Path, ddir: Path, max_files: int | None) -> RepoIndex:
    """The tags index without references; a first build here reads the saved graph with it."""
    return load_index(root, ddir, max_files=max_files, full=False, graph_key=graph_code_key())


def repo_graph(index: RepoIndex, ddir: Path) -> RepoGraph:
    """The ranking graph: in memory, else saved next to the tags, else built (and saved)."""
    if index.graph is None:
        index.graph = load_graph(index, ddir, graph_code_key())
    if index.graph is None:
        index.require_full()  # references and words: only the graph build reads them
        save_graph(index, ddir, graph_code_key(), for_disk(build_graph(index)))
    return build_graph(index)
