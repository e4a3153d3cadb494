"""The forms the warm path loads (lazy tables of the saved graph) answer exactly as the plain
forms they replace: the ranking reads them, so any drift would change what the agent sees."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

from harness_ls.context import build, prepare
from harness_ls.context.bm25 import BM25
from harness_ls.context.build import build_context
from harness_ls.context.cache import RepoIndex, clear_memory, load_index
from harness_ls.context.features import _top
from harness_ls.context.lazymap import PER_BUCKET, LazyMap
from harness_ls.context.rank import build_graph
from harness_ls.context.render import rank_order
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


def _plain_bm25(docs: list[list[str]], query: list[str], weights: dict[str, float]) -> list[float]:
    k1, b = 1.2, 0.75
    avg = sum(map(len, docs)) / len(docs)
    out = [0.0] * len(docs)
    for t in dict.fromkeys(query):
        having = [i for i, d in enumerate(docs) if t in d]
        if not having:
            continue
        idf = math.log(1 + (len(docs) - len(having) + 0.5) / (len(having) + 0.5))
        idf *= weights.get(t, 1.0)
        for i in having:
            f = docs[i].count(t)
            norm = k1 * (1 - b + b * len(docs[i]) / avg)
            out[i] += idf * f * (k1 + 1) / (f + norm)
    return out


def test_bm25_with_norms_worked_out_once_scores_bit_for_bit_as_the_formula():
    docs = [["order", "parse"] * k + ["cache"] * (k % 3) for k in range(1, 40)] + [["user"]]
    query = ["order", "cache", "user", "absent", "order"]
    weights = {"cache": 0.5}
    assert BM25(docs).scores(query, weights) == _plain_bm25(docs, query, weights)


def test_top_is_the_stable_sort_it_replaces_ties_in_insertion_order():
    values = {7: 0.5, 3: 0.9, 9: 0.5, 1: 0.0, 4: 0.9, 8: 0.5, 2: 0.1}
    for k in range(len(values) + 2):
        assert _top(values, k) == sorted(values, key=lambda i: -values[i])[:k]


def test_rank_order_is_score_then_path():
    graph = build_graph(_index())
    for scores in ([0.5, 0.5], [0.1, 0.7], [0.0, 0.0]):
        want = sorted(range(2), key=lambda i: (-scores[i], graph.files[i]))
        assert rank_order(graph, scores) == want


def _files(n: int) -> dict[str, str]:
    return {
        f"app/mod_{i}.py": f"def handler_{i}(order):\n    return parse_order_{(i + 1) % n}(order)\n"
        f"\n\ndef parse_order_{i}(order):\n    return order\n"
        for i in range(n)
    }


def test_a_repeated_build_reuses_the_ranking_and_a_preference_never_leaks(
    repo, data_dir, monkeypatch
):
    root = repo(_files(12))
    task = "fix parse_order_3 and handler_7"
    calls: list[str] = []
    real = build.rank_files

    def counting(graph, task, *args, **kwargs):
        calls.append(task)
        return real(graph, task, *args, **kwargs)

    monkeypatch.setattr(build, "rank_files", counting)
    first = build_context(root, task, 2000, data_dir=data_dir)
    preferred = build_context(root, task, 2000, data_dir=data_dir, prefer=["app/mod_11.py"])
    again = build_context(root, task, 2000, data_dir=data_dir)
    assert calls == [task]  # one ranking for three builds of the same inputs
    assert preferred.files[0] == "app/mod_11.py" and again.text == first.text
    hidden = build_context(root, task, 2000, data_dir=data_dir, exclude=["app/mod_3.py"])
    other = build_context(root, "handler_5", 2000, data_dir=data_dir)
    assert calls == [task, task, "handler_5"]  # another hidden set, another task: ranked
    assert "app/mod_3.py" not in hidden.files and other.files[0] == "app/mod_5.py"
    clear_memory()
    assert build_context(root, task, 2000, data_dir=data_dir).text == first.text


def test_a_first_build_reads_the_saved_graph_with_the_tags_and_drops_it_after_an_edit(
    repo, data_dir
):
    root = repo(_files(12)).resolve()
    build_context(root, "fix parse_order_3", 2000, data_dir=data_dir)  # saves tags and graph
    clear_memory()
    index = load_index(root, data_dir, full=False, graph_key=prepare.graph_code_key())
    assert index.graph is not None and index.parsed == 0
    clear_memory()
    (root / "app" / "mod_3.py").write_text("def parse_order_3(order):\n    return None\n")
    index = load_index(root, data_dir, full=False, graph_key=prepare.graph_code_key())
    assert index.graph is None and index.parsed == 1  # rewritten: its saved graph is stale
    clear_memory()
    index = load_index(root, data_dir, full=False, graph_key="other code")
    assert index.graph is None and index.parsed == 0
