"""Which files and definitions matter for a task: a reference graph and personalized PageRank.

Files are nodes; an edge A -> B means A uses identifiers that B defines (weighted by how often,
split among all definers, damped for generic names). The random walk restarts at the files the
task points to: paths it mentions, identifiers it names, its words matched against paths and
definition names (BM25), and what git says is being worked on. The PageRank here is a small
power iteration over adjacency lists: networkx's own needs scipy, and its pure-Python fallback
costs ~0.6 s on a 5k-file graph, twice the whole warm-build budget.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .bm25 import BM25, terms
from .cache import RepoIndex
from .tags import IDENT_RE

# Damping: 0.5-0.7 beat 0.85 on the recall benchmark (top-10 hits); the walk stays nearer the task.
ALPHA = 0.7
RECENT_SHARE = 0.2  # of the restart mass when the task itself points somewhere
BM25_SEEDS = 25  # files seeded from the task's words
BM25_WEIGHT = 4.0
WORD_TAIL = 0.02  # share of the word score added for every file (orders the tail)
MAX_DEFINERS = 30  # a name defined in more files than this links nothing
PATH_RE = re.compile(r"[\w.@+-]*[\w-]+(?:/[\w.@+-]+)*\.[A-Za-z0-9]{1,8}\b|[\w.-]+(?:/[\w.-]+)+")


@dataclass
class RepoGraph:
    """Task-independent structure of a repo index, built once per index fingerprint."""

    files: list[str]
    pos: dict[str, int]
    definers: dict[str, list[int]]
    out_edges: list[list[tuple[int, float]]]  # normalized weights
    inbound: dict[str, int]  # name -> number of other files referencing it
    docs: BM25
    basenames: dict[str, list[int]] = field(default_factory=dict)
    prior: list[float] = field(default_factory=list)  # in-weight, in [0, 1]: task-free importance


def _name_weight(name: str) -> float:
    if name.startswith("_"):
        return 0.1
    if len(name) <= 6 and name.islower():  # name, find, build: too generic to mean a link
        return 0.2
    if len(name) >= 8 and ("_" in name or any(c.isupper() for c in name[1:])):
        return 2.0
    return 1.0


def build_graph(index: RepoIndex) -> RepoGraph:
    if index.graph is not None:
        return index.graph
    files = sorted(index.tags)
    pos = {f: i for i, f in enumerate(files)}
    definers: dict[str, list[int]] = {}
    docs: list[list[str]] = []
    basenames: dict[str, list[int]] = {}
    for i, rel in enumerate(files):
        t = index.tags[rel]
        for d in t.defs:
            if d[3] != "heading":
                definers.setdefault(d[0], []).append(i)
        docs.append(t.words.split() if t.words else terms(rel))
        basenames.setdefault(rel.rsplit("/", 1)[-1].lower(), []).append(i)
    for name, idx in definers.items():
        if len(idx) > 1:
            definers[name] = sorted(set(idx))
    inbound: dict[str, int] = {}
    out_edges: list[list[tuple[int, float]]] = []
    for i, rel in enumerate(files):
        acc: dict[int, float] = {}
        for name, count in index.tags[rel].refs.items():
            defs = definers.get(name)
            if not defs or len(defs) > MAX_DEFINERS:
                continue
            inbound[name] = inbound.get(name, 0) + 1
            w = math.sqrt(count) * _name_weight(name) / len(defs)
            for j in defs:
                if j != i:
                    acc[j] = acc.get(j, 0.0) + w
        total = sum(acc.values())
        out_edges.append([(j, w / total) for j, w in acc.items()] if total else [])
    prior = [0.0] * len(files)
    for out in out_edges:
        for j, w in out:
            prior[j] += w
    top = max(prior, default=0.0) or 1.0
    prior = [p / top for p in prior]
    graph = RepoGraph(files, pos, definers, out_edges, inbound, BM25(docs), basenames, prior)
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
DOTTED_RE = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\(?(?![\w/])")


def _code_like(word: str) -> bool:
    """An identifier the task names as code, not an English word that happens to be defined."""
    return "_" in word.strip("_") or any(c.isupper() for c in word[1:]) or word.isupper()


@dataclass
class TaskHints:
    """What the task text points at."""

    paths: set[int] = field(default_factory=set)
    idents: set[str] = field(default_factory=set)  # defined names the task mentions
    words: list[str] = field(default_factory=list)
    word_scores: list[float] = field(default_factory=list)  # BM25 per file (graph order)
    scoped: dict[str, set[int]] = field(default_factory=dict)  # member -> files of its owner


def task_hints(graph: RepoGraph, task: str) -> TaskHints:
    hints = TaskHints()
    for m in PATH_RE.findall(task):
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
            hints.paths.update(matched)
    quoted = set(IDENT_RE.findall(" ".join(BACKTICK_RE.findall(task))))
    for dotted in DOTTED_RE.findall(task):  # Broker.answer, obj.run(): code, and scoped
        parts = IDENT_RE.findall(dotted)
        quoted.update(parts)
        for owner, member in zip(parts, parts[1:], strict=False):
            if owner in graph.definers and member in graph.definers:
                hints.scoped.setdefault(member, set()).update(graph.definers[owner])
    hints.idents = {
        w for w in IDENT_RE.findall(task) if w in graph.definers and (w in quoted or _code_like(w))
    }
    hints.words = terms(task)
    return hints


def seed_weights(graph: RepoGraph, hints: TaskHints, recent: dict[str, float]) -> dict[int, float]:
    seeds: dict[int, float] = {}

    def add(i: int, w: float) -> None:
        seeds[i] = seeds.get(i, 0.0) + w

    for i in hints.paths:
        add(i, 10.0)
    for name in hints.idents:
        defs = graph.definers[name]
        if len(defs) <= 10:
            for i in defs:
                add(i, 5.0 * _name_weight(name) / len(defs))
    if hints.words:
        scores = graph.docs.scores(hints.words)
        hints.word_scores = scores
        top = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:BM25_SEEDS]
        best = scores[top[0]] if top else 0.0
        for i in top:
            if best > 0 and scores[i] > 0:
                add(i, BM25_WEIGHT * scores[i] / best)
    # Recency matters, but must not drown what the task names: it gets a fixed share of mass.
    task_mass = sum(seeds.values())
    rec = {graph.pos[r]: w for r, w in recent.items() if r in graph.pos}
    rec_mass = sum(rec.values())
    if rec_mass > 0:
        share = RECENT_SHARE * task_mass / (1 - RECENT_SHARE) if task_mass else 1.0
        for i, w in rec.items():
            add(i, share * w / rec_mass)
    return seeds


def rank_files(
    graph: RepoGraph, task: str, recent: dict[str, float]
) -> tuple[list[float], TaskHints]:
    """PageRank score per file (graph order) and the hints that seeded it."""
    hints = task_hints(graph, task)
    seeds = seed_weights(graph, hints, recent)
    ranks = pagerank(graph, seeds, alpha=ALPHA)
    total = sum(seeds.values())
    if total:  # what the task points at directly stays on top of what it merely leads to
        for i, w in seeds.items():
            ranks[i] += w / total
    best = max(hints.word_scores, default=0.0)
    if best > 0:  # past the top, word matches order the long tail the walk barely reaches
        for i, sc in enumerate(hints.word_scores):
            ranks[i] += WORD_TAIL * sc / best
    for i, p in enumerate(graph.prior):  # files the walk never reaches still get an order
        ranks[i] += 1e-6 * (p + 0.01)
    return ranks, hints
