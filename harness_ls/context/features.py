"""Evidence that a file is where a task's change goes: one measured feature per kind of evidence.

Every feature is a number in [0, 1] per file (sparse: most files have none of most features):
  path        the task mentions the file's path or file name
  stem        the task's words include the file's name without extension (`sessions` -> sessions.py)
  symbol      the file defines a code-like identifier the task names (`snake_case`, `CamelCase`,
              backticks, dotted names), split among all files that define it
  word_def    a plain task word is exactly a name the file defines (few definers only)
  uses        the file uses a code-like or quoted name the task mentions (a parameter, a field,
              a call) that few files use: 1/sqrt(users), summed over names, capped at 1
  bm25        BM25 of the task's words over the file's path, definition names and identifiers
  bm25_path   BM25 of the task's words over the file's path alone
  bm25_def    BM25 of the task's words over the names the file defines alone
  pagerank    mass the reference graph's personalised PageRank carries to the file from the
              files the direct evidence above points at (the restart mass itself excluded)
  similar     files touched by past commits whose messages resemble the task
  similar_max the similarity of the best such commit that touched the file (not split)
  cochange    files that changed together with the best directly matched files
  bm25_rank   1 / (1 + rank) of the file by BM25
  bm25_abs, bm25_path_abs   the two BM25 scores over their ceiling (share of the task's
              matchable words), not over the best file: a weak best match stays weak
  recent      uncommitted changes and the last few commits' files
  churn       how often the file changed in the last CHURN_COMMITS commits, log-scaled (files
              that change often are likelier to change again)
  prior       in-weight in the reference graph (task-free centrality)
  size        log(lines) over the largest file's (big files hold more change sites)
  test, prose, prose_doc_task, example, other   the file's kind (0/1); prose splits on whether
              the task's subject is about documentation (task.py)
  decl, decl_types_task   a type declaration file (`.d.ts`, `.pyi`) on a task that is not /
              is about types (then it is the code to change)
  changelog   a changelog, release notes or authors file (on top of prose): history features
              favour it, since most commits touch it
rank.py combines them linearly with weights learned on real histories.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from heapq import nsmallest
from itertools import count
from operator import neg

from .history import History, churn, cochange, similar_commit_files
from .kinds import EXAMPLE, OTHER, PROSE, TEST, is_changelog, is_decl
from .task import is_doc_task, is_types_task

FEATURES = (
    "path", "stem", "symbol", "word_def", "uses", "bm25", "bm25_path", "bm25_def", "bm25_rank",
    "bm25_abs", "bm25_path_abs", "pagerank", "similar", "similar_max", "cochange", "recent",
    "churn", "prior", "size", "test", "prose", "prose_doc_task", "changelog", "example", "other",
    "decl", "decl_types_task",
)  # fmt: skip
DIRECT = ("path", "stem", "symbol", "word_def", "bm25", "bm25_path")
# Restart distribution of the PageRank and seeds of co-change: a fixed mix of the direct
# evidence (not learned: the learned weights then say how much the walk's result is worth).
SEED_MIX = {"path": 3.0, "stem": 1.0, "symbol": 2.0, "word_def": 1.0, "bm25": 1.0, "bm25_path": 0.5}
PPR_ALPHA = 0.7
PPR_SEEDS = 25
COCHANGE_SEEDS = 5
MAX_WORD_DEFINERS = 5
RANKED = 20
MAX_USERS = 20


@dataclass
class TaskFeatures:
    values: dict[str, dict[int, float]] = field(default_factory=dict)  # feature -> file -> value
    doc_task: bool = False
    types_task: bool = False
    notes: list[str] = field(default_factory=list)

    def row(self, i: int) -> dict[str, float]:
        return {k: v[i] for k, v in self.values.items() if v.get(i)}


def _normalise(raw: dict[int, float]) -> dict[int, float]:
    best = max(raw.values(), default=0.0)
    return {i: v / best for i, v in raw.items() if v > 0} if best > 0 else {}


def _top(values: dict[int, float], k: int) -> list[int]:
    """sorted(values, key=lambda i: -values[i])[:k]: the k largest, ties in insertion order,
    compared in C (no key call per file)."""
    keys = list(values)
    return [keys[pos] for _, pos in nsmallest(k, zip(map(neg, values.values()), count()))]


def _normalise_list(raw: list[float]) -> dict[int, float]:
    """_normalise(dict(enumerate(raw))) without the intermediate dict."""
    best = max(raw, default=0.0)
    return {i: v / best for i, v in enumerate(raw) if v > 0} if best > 0 else {}


def static_values(graph) -> dict[str, dict[int, float]]:
    """The task-free features (prior, size, kinds, declaration files, changelogs), worked out
    once per graph and saved with it; `compute` copies them for every task."""
    if graph.static:
        return graph.static
    kinds: dict[str, dict[int, float]] = {TEST: {}, PROSE: {}, EXAMPLE: {}, OTHER: {}}
    for i, kind in enumerate(graph.kinds):
        if kind in kinds:
            kinds[kind][i] = 1.0
    graph.static = {
        "prior": {i: p for i, p in enumerate(graph.prior) if p > 0},
        "size": {i: v for i, v in enumerate(graph.sizes) if v > 0},
        "test": kinds[TEST],
        "prose": kinds[PROSE],
        "example": kinds[EXAMPLE],
        "other": kinds[OTHER],
        "decl": {i: 1.0 for i, f in enumerate(graph.files) if is_decl(f)},
        "changelog": {i: 1.0 for i, f in enumerate(graph.files) if is_changelog(f)},
    }
    return graph.static


def _direct(graph, hints, words: list[str]) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {
        k: {} for k in DIRECT + ("uses", "bm25_def", "bm25_rank", "bm25_abs", "bm25_path_abs")
    }
    out["path"] = {i: 1.0 for i in hints.paths}
    word_set = set(words)
    has_all = word_set.issuperset
    out["stem"] = {i: 1.0 for i, stem in enumerate(graph.stems) if stem and has_all(stem)}
    sym: dict[int, float] = {}
    for name in hints.idents:
        defs = graph.definers[name]
        if name in hints.scoped:
            defs = [i for i in defs if i in hints.scoped[name]] or defs
        if len(defs) > 10:
            continue
        for i in defs:
            sym[i] = min(1.0, sym.get(i, 0.0) + 1.0 / len(defs))
    out["symbol"] = sym
    wd: dict[int, float] = {}
    for w in {w for w in words if len(w) >= 4}:
        defs = graph.lower_definers.get(w)
        if defs and len(defs) <= MAX_WORD_DEFINERS:
            for i in defs:
                wd[i] = min(1.0, wd.get(i, 0.0) + 0.5)
    out["word_def"] = wd
    uses: dict[int, float] = {}
    for name in {w for w in hints.code_words if len(w) >= 4}:
        users = graph.users.get(name, ())
        if users:
            for i in users:
                uses[i] = min(1.0, uses.get(i, 0.0) + len(users) ** -0.5)
    out["uses"] = uses
    if words:
        tw = hints.term_weights
        hints.word_scores = graph.docs.scores(words, tw)
        out["bm25"] = _normalise_list(hints.word_scores)
        ranked = _top(out["bm25"], RANKED)
        out["bm25_rank"] = {i: 1.0 / (1 + r) for r, i in enumerate(ranked)}
        path_scores = graph.path_docs.scores(words, tw)
        out["bm25_def"] = _normalise_list(graph.def_docs.scores(words, tw))
        out["bm25_path"] = _normalise_list(path_scores)
        for key, docs, raw in (("bm25_abs", graph.docs, hints.word_scores),
                               ("bm25_path_abs", graph.path_docs, path_scores)):  # fmt: skip
            top = docs.ceiling(words, tw)
            out[key] = {i: min(1.0, v / top) for i, v in enumerate(raw) if v > 0} if top else {}
    return out


def compute(
    graph,
    hints,
    task: str,
    recent: dict[str, float],
    hist: History | None,
    *,
    pagerank_fn,
) -> TaskFeatures:
    """All features of every file for one task (graph order)."""
    words = hints.words
    feats = TaskFeatures(
        doc_task=is_doc_task(hints.text.subject), types_task=is_types_task(hints.text)
    )
    vals = _direct(graph, hints, words)
    seed: dict[int, float] = {}
    for k, mix in SEED_MIX.items():
        for i, v in vals[k].items():
            seed[i] = seed.get(i, 0.0) + mix * v
    top = _top(seed, PPR_SEEDS)
    seeds = {i: seed[i] for i in top}
    rec = {graph.pos[r]: w for r, w in recent.items() if r in graph.pos}
    vals["recent"] = _normalise(rec)
    if seeds:
        total = sum(seeds.values())
        ranks = pagerank_fn(graph, seeds, alpha=PPR_ALPHA)
        walked = {
            i: r - (1 - PPR_ALPHA) * seeds.get(i, 0.0) / total for i, r in enumerate(ranks) if r
        }
        vals["pagerank"] = _normalise(walked)
    else:
        vals["pagerank"] = {}
    for k in ("similar", "similar_max", "cochange", "churn"):
        vals[k] = {}
    if hist is not None and not hist.empty:
        peak: dict[str, float] = {}
        sim = similar_commit_files(hist, words, peak, hints.term_weights)
        vals["similar"] = _normalise({graph.pos[f]: v for f, v in sim.items() if f in graph.pos})
        vals["similar_max"] = {graph.pos[f]: v for f, v in peak.items() if f in graph.pos}
        best = _top(seed, COCHANGE_SEEDS)
        total = sum(seed[i] for i in best)
        if total > 0:
            co = cochange(hist, {graph.files[i]: seed[i] / total for i in best})
            vals["cochange"] = _normalise(
                {graph.pos[f]: v for f, v in co.items() if f in graph.pos}
            )
        vals["churn"] = {graph.pos[f]: v for f, v in churn(hist).items() if f in graph.pos and v}
    elif hist is not None and hist.note:
        feats.notes.append(hist.note)
    st = static_values(graph)  # copies: a task's values are its own
    vals["prior"], vals["size"] = dict(st["prior"]), dict(st["size"])
    for k in ("test", "prose", "prose_doc_task", "example", "other"):
        vals[k] = {} if k.startswith("prose") else dict(st[k])
    vals["prose_doc_task" if feats.doc_task else "prose"] = dict(st["prose"])
    decl = dict(st["decl"])
    vals["decl"], vals["decl_types_task"] = ({}, decl) if feats.types_task else (decl, {})
    vals["changelog"] = dict(st["changelog"])
    feats.values = vals
    return feats


def linear(feats: TaskFeatures, weights: dict[str, float], n: int) -> list[float]:
    """Σ weight × feature per file."""
    out = [0.0] * n
    for k, w in weights.items():
        if not w:
            continue
        for i, v in feats.values.get(k, {}).items():
            out[i] += w * v
    return out


def squash(x: float) -> float:
    """A positive, order-preserving score (the map drops files at or below zero)."""
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))
