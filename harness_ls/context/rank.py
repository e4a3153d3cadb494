"""Which files and definitions matter for a task: a reference graph and personalized PageRank.

Files are nodes; an edge A -> B means A uses identifiers that B defines (weighted by how often,
split among all definers, damped for generic names). A file's score for a task is a linear mix
of measured features (features.py: paths and identifiers the task names, BM25, a personalised
PageRank from the directly matched files, git history, the file's kind) with weights learned on
real histories (benchmarks/context_recall.py --learn). The PageRank here is a small
power iteration over adjacency lists: networkx's own needs scipy, and its pure-Python fallback
costs ~0.6 s on a 5k-file graph, twice the whole warm-build budget.
"""

from __future__ import annotations

import math
import re
from collections import Counter, _count_elements  # type: ignore[attr-defined]
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain

from .bm25 import BM25, ident_terms, terms
from .cache import RepoIndex
from .features import MAX_USERS, TaskFeatures, compute, linear, static_values
from .history import History
from .kinds import TEST, excluded, kind_of
from .tags import IDENT_RE
from .task import TaskText, read_task
from .weights import BIAS, WEIGHTS, WEIGHTS_NO_HISTORY

MAX_DEFINERS = 30  # a name defined in more files than this links nothing
PATH_RE = re.compile(r"[\w.@+-]*[\w-]+(?:/[\w.@+-]+)*\.[A-Za-z0-9]{1,8}\b|[\w.-]+(?:/[\w.-]+)+")


@dataclass
class RepoGraph:
    """Task-independent structure of a repo index, built once per index fingerprint. The name
    tables are only looked up, never iterated on a build (the saved copy's are LazyMaps)."""

    files: list[str]
    pos: dict[str, int]
    definers: Mapping[str, list[int]]
    out_edges: list[list[tuple[int, float]]]  # normalized weights
    inbound: dict[str, int]  # name -> number of other files referencing it
    docs: BM25
    basenames: Mapping[str, list[int]] = field(default_factory=dict)
    prior: list[float] = field(default_factory=list)  # in-weight, in [0, 1]: task-free importance
    path_docs: BM25 | None = None  # path terms only
    stems: list[tuple[str, ...]] = field(default_factory=list)  # file name terms, no extension
    lower_definers: Mapping[str, list[int]] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)  # kinds.kind_of per file
    hidden: list[str | None] = field(default_factory=list)  # why never shown (kinds.excluded)
    def_docs: BM25 | None = None  # terms of the names each file defines, nothing else
    sizes: list[float] = field(default_factory=list)  # log lines over the largest file's
    users: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # name -> its few users
    static: dict[str, dict[int, float]] = field(default_factory=dict)  # features.static_values
    tiebreak: list[float] = field(default_factory=list)  # 1e-9 * (prior + 0.01): ties by prior


def _name_weight(name: str) -> float:
    if name.startswith("_"):
        return 0.1
    if len(name) <= 6 and name.islower():  # name, find, build: too generic to mean a link
        return 0.2
    if len(name) >= 8 and ("_" in name or any(c.isupper() for c in name[1:])):
        return 2.0
    return 1.0


def _definers(files: list[str], index: RepoIndex) -> dict[str, list[int]]:
    """Name -> the files defining it, ascending, each once (headings define nothing). Names in
    first-seen order: lower_definers, and so the features' tie order, follow it."""
    definers: dict[str, list[int]] = {}
    get = definers.get
    for i, rel in enumerate(files):
        defs = index.tags[rel].defs
        if not defs:
            continue
        for name in dict.fromkeys([d[0] for d in defs if d[3] != "heading"]):
            idx = get(name)
            if idx is None:
                definers[name] = [i]
            else:
                idx.append(i)
    return definers


_SQRT = [math.sqrt(k) for k in range(1024)]  # reference counts are small: one lookup each


def _edges(
    files: list[str], index: RepoIndex, definers: dict[str, list[int]]
) -> tuple[list[list[tuple[int, float]]], dict[str, int], dict[str, list[int]]]:
    """Out-edges per file (normalised), name -> files referencing it (linked names only), and
    name -> its users (names of 4+ letters: the task's 3-letter names are never looked up)."""
    inbound: dict[str, int] = {}
    out_edges: list[list[tuple[int, float]]] = []
    users: dict[str, list[int]] = {}
    link: dict[str, tuple[list[int], float, int] | None] = {}  # per name, worked out once
    for i, rel in enumerate(files):
        acc: dict[int, float] = {}
        for name, count in index.tags[rel].refs.items():
            if len(name) >= 4:
                u = users.get(name)
                if u is None:
                    users[name] = [i]
                else:
                    u.append(i)
            if name in link:
                e = link[name]
            else:
                defs = definers.get(name)
                ok = defs and len(defs) <= MAX_DEFINERS
                e = link[name] = (defs, _name_weight(name), len(defs)) if ok else None  # type: ignore[arg-type]
            if e is None:
                continue
            inbound[name] = inbound.get(name, 0) + 1
            defs, nw, n = e
            w = (_SQRT[count] if count < 1024 else math.sqrt(count)) * nw / n
            if n == 1:
                j = defs[0]
                if j != i:
                    acc[j] = acc.get(j, 0.0) + w
                continue
            for j in defs:
                if j != i:
                    acc[j] = acc.get(j, 0.0) + w
        total = sum(acc.values())
        out_edges.append([(j, w / total) for j, w in acc.items()] if total else [])
    return out_edges, inbound, users


def build_graph(index: RepoIndex) -> RepoGraph:
    if index.graph is not None:
        return index.graph
    files = sorted(index.tags)
    pos = {f: i for i, f in enumerate(files)}
    docs: list[dict[str, int]] = []
    def_docs: list[dict[str, int]] = []
    basenames: dict[str, list[int]] = {}
    for i, rel in enumerate(files):
        t = index.tags[rel]
        docs.append(t.words or Counter(terms(rel)))
        # terms of names joined by spaces are the concatenation of each name's (cached) terms
        counted: dict[str, int] = {}
        if t.defs:
            _count_elements(
                counted,
                chain.from_iterable([ident_terms(d[0]) for d in t.defs if d[3] != "heading"]),
            )
        def_docs.append(counted)
        basenames.setdefault(rel.rsplit("/", 1)[-1].lower(), []).append(i)
    definers = _definers(files, index)
    out_edges, inbound, users = _edges(files, index, definers)
    prior = [0.0] * len(files)
    for out in out_edges:
        for j, w in out:
            prior[j] += w
    top = max(prior, default=0.0) or 1.0
    prior = [p / top for p in prior]
    graph = RepoGraph(files, pos, definers, out_edges, inbound, BM25(docs), basenames, prior)
    graph.path_docs = BM25(terms(f) for f in files)
    graph.def_docs = BM25(def_docs)
    top_lines = math.log1p(max((index.tags[f].lines for f in files), default=0)) or 1.0
    graph.sizes = [math.log1p(index.tags[f].lines) / top_lines for f in files]
    graph.users = {k: tuple(v) for k, v in users.items() if len(v) <= MAX_USERS}
    for f in files:
        base = f.rsplit("/", 1)[-1]
        graph.stems.append(tuple(terms(base.rsplit(".", 1)[0] if "." in base[1:] else base)))
        graph.kinds.append(kind_of(f))
        graph.hidden.append(excluded(f))
    lower: dict[str, list[int]] = {}
    for name, idx in definers.items():
        if len(name) >= 4:
            lower.setdefault(name.lower(), []).extend(idx)
    graph.lower_definers = lower
    graph.tiebreak = [1e-9 * (p + 0.01) for p in prior]
    static_values(graph)
    index.graph = graph
    return graph


def pagerank(
    graph: RepoGraph, seeds: dict[int, float], *, alpha: float = 0.85, tol: float = 1e-6
) -> list[float]:
    """Personalized PageRank (uniform restart when there are no seeds); dangling mass restarts."""
    n = len(graph.files)
    if n == 0:
        return []
    total = sum(seeds.values())
    p = [0.0] * n
    if total > 0:
        for i, w in seeds.items():
            p[i] = w / total
    else:
        p = [1.0 / n] * n
    x = p[:]
    edges = graph.out_edges
    for _ in range(100):
        nxt = [0.0] * n
        dangling = 0.0
        for i, xi in enumerate(x):
            if not xi:
                continue
            out = edges[i]
            if not out:
                dangling += xi
                continue
            for j, w in out:
                nxt[j] += xi * w
        restart = alpha * dangling + (1 - alpha)
        err = 0.0
        for i in range(n):
            v = alpha * nxt[i] + restart * p[i]
            err += abs(v - x[i])
            nxt[i] = v
        x = nxt
        if err < n * tol:
            break
    return x


BACKTICK_RE = re.compile(r"`([^`]+)`")
CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\(\)")  # style(), parse_args(): code, however plain
DOTTED_RE = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\(?(?![\w/])")


def _code_like(word: str) -> bool:
    """An identifier the task names as code, not an English word that happens to be defined."""
    return "_" in word.strip("_") or any(c.isupper() for c in word[1:]) or word.isupper()


@dataclass
class TaskHints:
    """What the task text points at."""

    paths: set[int] = field(default_factory=set)
    idents: set[str] = field(default_factory=set)  # defined names the task mentions
    code_words: set[str] = field(default_factory=set)  # code-like names, defined or not
    words: list[str] = field(default_factory=list)
    word_scores: list[float] = field(default_factory=list)  # BM25 per file (graph order)
    scoped: dict[str, set[int]] = field(default_factory=dict)  # member -> files of its owner
    term_weights: dict[str, float] = field(default_factory=dict)  # goal 1, other sections less
    text: TaskText = field(default_factory=TaskText)


def _mentioned_paths(graph: RepoGraph, text: str) -> set[int]:
    out: set[int] = set()
    for m in PATH_RE.findall(text):
        mention = m.strip("./").lower()
        if not mention:
            continue
        if mention in graph.basenames and "/" not in mention:
            matched = graph.basenames[mention]
        else:
            matched = [
                i
                for i, f in enumerate(graph.files)
                if f.lower() == mention
                or f.lower().endswith("/" + mention)
                or f.lower().startswith(mention + "/")
            ][:50]
        if len(matched) <= 10:
            out.update(matched)
    return out


def task_hints(graph: RepoGraph, task: str) -> TaskHints:
    """What the task's own words point at (task.py drops the spec's scaffolding first); its
    acceptance-test commands may point at test files, nothing else."""
    hints = TaskHints(text=read_task(task))
    text = hints.text.text
    hints.paths = _mentioned_paths(graph, text)
    for cmd in hints.text.commands:
        hints.paths.update(i for i in _mentioned_paths(graph, cmd) if graph.kinds[i] == TEST)
    quoted = set(IDENT_RE.findall(" ".join(BACKTICK_RE.findall(text) + CALL_RE.findall(text))))
    for dotted in DOTTED_RE.findall(text):  # Broker.answer, obj.run(): code, and scoped
        parts = IDENT_RE.findall(dotted)
        quoted.update(parts)
        for owner, member in zip(parts, parts[1:], strict=False):
            if owner in graph.definers and member in graph.definers:
                hints.scoped.setdefault(member, set()).update(graph.definers[owner])
    hints.code_words = {w for w in IDENT_RE.findall(text) if w in quoted or _code_like(w)}
    hints.idents = {w for w in hints.code_words if w in graph.definers}
    hints.words = terms(text)
    hints.term_weights = hints.text.term_weights()
    return hints


@dataclass
class Ranking:
    """Score per file (graph order, > 0 unless hidden), the hints and features behind it."""

    scores: list[float]
    hints: TaskHints
    features: TaskFeatures
    weights: dict[str, float]

    def explain(self, i: int) -> list[tuple[str, float]]:
        """(feature, weight x value) that put file i where it is, largest effect first."""
        row = self.features.row(i)
        parts = [(k, self.weights.get(k, 0.0) * v) for k, v in row.items()]
        return sorted((p for p in parts if p[1]), key=lambda p: -abs(p[1]))


def rank_files(
    graph: RepoGraph,
    task: str,
    recent: dict[str, float],
    history: History | None = None,
    *,
    weights: dict[str, float] | None = None,
    hide: set[str] | frozenset[str] = frozenset(),
) -> Ranking:
    """Score every file for the task: a learned linear mix of the features, squashed to (0, 1).
    Hidden files (spec, scaffolding, lockfiles, generated, `hide`) score 0 and are never shown."""
    if weights is not None:
        w = weights
    else:  # without history its features are all zero: weights learned for that case
        w = WEIGHTS if history is not None and not history.empty else WEIGHTS_NO_HISTORY
    hints = task_hints(graph, task)
    feats = compute(graph, hints, task, recent, history, pagerank_fn=pagerank)
    raw = linear(feats, w, len(graph.files))
    tiebreak = graph.tiebreak or [1e-9 * (p + 0.01) for p in graph.prior]
    exp = math.exp  # features.squash, inline: one call less per file
    scores = [
        1.0 / (1.0 + exp(-max(-50.0, min(50.0, BIAS + x)))) + t
        for x, t in zip(raw, tiebreak, strict=True)
    ]
    for i, why in enumerate(graph.hidden):
        if why:
            scores[i] = 0.0
    for rel in hide:
        i = graph.pos.get(rel)
        if i is not None:
            scores[i] = 0.0
    return Ranking(scores, hints, feats, dict(w))
