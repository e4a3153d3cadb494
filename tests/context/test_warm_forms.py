"""The forms the warm path loads (lazy tables of the saved graph) answer exactly as the plain
forms they replace: the ranking reads them, so any drift would change what the agent sees."""

from __future__ import annotations

import pickle
from pathlib import Path

from harness_ls.context import prepare
from harness_ls.context.cache import RepoIndex
from harness_ls.context.lazymap import PER_BUCKET, LazyMap
from harness_ls.context.rank import build_graph
from harness_ls.context.tags import FileTags


def test_lazy_map_answers_like_its_dict_after_a_pickle_round_trip():
    plain = {f"name_{k}": [k, k + 1] for k in range(10 * PER_BUCKET)}
    plain["\udcff odd"] = [(1, 2)]  # a path decoded with surrogateescape, tuples in a list
    lazy = pickle.loads(pickle.dumps(LazyMap(plain), protocol=5))
    assert len(lazy) == len(plain) and list(lazy) == list(plain)
    assert dict(lazy.items()) == plain and lazy == plain
    assert lazy["name_7"] == [7, 8] and lazy.get("\udcff odd") == [(1, 2)]
    assert "name_9" in lazy and "missing" not in lazy and 3 not in lazy
    assert lazy.get("missing") is None and lazy.get("missing", ()) == ()


def test_lazy_map_decodes_only_the_bucket_a_lookup_needs():
    lazy = pickle.loads(pickle.dumps(LazyMap({f"n{k}": k for k in range(40 * PER_BUCKET)})))
    assert lazy["n5"] == 5
    assert sum(part is not None for part in lazy._parts) == 1 and len(lazy._parts) == 40


def _index() -> RepoIndex:
    tags = {
        "app/worker.py": FileTags(
            lang="python",
            defs=[["Worker", 1, 9, "class", "class Worker:"], ["run", 2, 3, "function", "def run"]],
            refs={"main": 2, "helper": 1},
            words={"app": 2, "worker": 3},
        ),
        "app/main.py": FileTags(
            lang="python",
            defs=[["main", 1, 4, "function", "def main():"]],
            refs={"Worker": 1, "run": 1},
            words={"app": 2, "main": 2},
        ),
    }
    return RepoIndex(root=Path("/nowhere"), tags=tags)


def test_the_saved_graph_is_the_built_graph_with_lazy_lookup_tables():
    graph = build_graph(_index())
    saved = pickle.loads(pickle.dumps(prepare.for_disk(graph), protocol=5))
    for name in prepare.LOOKUP_TABLES:
        assert isinstance(getattr(saved, name), LazyMap)
        assert dict(getattr(saved, name).items()) == getattr(graph, name)
    for name in prepare.BM25_FIELDS:
        docs, back = getattr(graph, name), getattr(saved, name)
        assert dict(back.postings.items()) == docs.postings and dict(back.idf.items()) == docs.idf
        assert back.scores(["worker", "app"]) == docs.scores(["worker", "app"])
    assert saved.out_edges == graph.out_edges and saved.files == graph.files
    assert not isinstance(graph.definers, LazyMap)  # the in-process graph keeps plain dicts
