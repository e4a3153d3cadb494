"""Build the context for a task: ranked repo map plus excerpts, fitted to a token budget."""

from __future__ import annotations

import gc
import os
import threading
import time
from dataclasses import dataclass
from heapq import nsmallest
from itertools import count
from operator import neg
from pathlib import Path

from pydantic import BaseModel, Field

from ..config import data_dir as default_data_dir
from ..errors import InvalidInput, NotFound
from ..nofollow import read_regular
from .background import Background
from .cache import RepoIndex
from .files import MAX_FILE_BYTES
from .history import History
from .prepare import git_features, repo_graph, repo_index
from .rank import Ranking, RepoGraph, rank_files
from .render import (
    entry_costs,
    excerpt_candidates,
    map_entries,
    merge_excerpts,
    render_excerpt,
    render_map,
)
from .tokens import count_tokens, tokenizer_name

_BUILD_LOCK = threading.Lock()
MIN_BUDGET = 64
MAX_BUDGET = 200_000
EXCERPT_SHARE = 0.6
RANKINGS_KEPT = 4  # per index: the last rankings, for builds repeating their inputs
SPEC_CHECK_FILES = 30  # top files checked for being the task's own text (the spec)
MAP_HEADER = "## Repository map (files ranked for this task; `line: definition`)"
EXCERPT_HEADER = "## Relevant excerpts"
NOTES_HEADER = "## Notes"


class ContextResult(BaseModel):
    """What the agent is shown, and how it was made (tokens, notes for what was skipped)."""

    map_text: str = ""
    excerpts_text: str = ""
    files: list[str] = Field(default_factory=list)  # files in the map, best first
    excerpt_files: list[str] = Field(default_factory=list)
    tokens: int = 0  # of `text` (the full rendering), never above budget_tokens
    budget_tokens: int = 0
    tokenizer: str = ""
    notes: list[str] = Field(default_factory=list)
    stats: dict[str, float] = Field(default_factory=dict)
    # file -> [(feature, contribution)], for `agentctl context --explain` (only when asked)
    explain: dict[str, list[tuple[str, float]]] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        return compose(self.map_text, self.excerpts_text, self.notes)


def compose(map_text: str, excerpts_text: str, notes: list[str]) -> str:
    parts = []
    if map_text:
        parts.append(f"{MAP_HEADER}\n{map_text}")
    if excerpts_text:
        parts.append(f"{EXCERPT_HEADER}\n{excerpts_text}")
    if notes:
        parts.append(NOTES_HEADER + "\n" + "\n".join(f"- {n}" for n in notes))
    return "\n\n".join(parts)


def _skip_notes(index: RepoIndex) -> list[str]:
    notes = list(index.listing.notes) + list(index.notes)
    for reason, paths in sorted(index.listing.skipped.items()):
        if reason.startswith("vendored"):
            continue  # expected; listing them would only cost tokens
        notes.append(f"skipped {len(paths)} {reason} file(s), e.g. {paths[0]}")
    by_reason: dict[str, list[str]] = {}
    lossy = []
    for rel, tags in index.tags.items():
        if tags.skip and tags.skip not in ("binary", "generated"):
            by_reason.setdefault(tags.skip, []).append(rel)
        if tags.lossy and not tags.skip:
            lossy.append(rel)
    for reason, paths in sorted(by_reason.items()):
        notes.append(f"skipped {len(paths)} {reason} file(s), e.g. {sorted(paths)[0]}")
    if lossy:
        notes.append(
            f"{len(lossy)} file(s) are not valid UTF-8 (shown with replacements), e.g. {lossy[0]}"
        )
    return notes


def _fit_excerpts(index: RepoIndex, cands, budget: int) -> tuple[str, list[str]]:
    blocks: list[str] = []
    files: list[str] = []
    used = 0
    for ex in merge_excerpts(cands):
        text = render_excerpt(index.root, ex)
        cost = count_tokens(text) + 1
        if used + cost > budget:
            room = budget - used
            if room < 80:
                continue
            lines = max(3, (ex.end - ex.start + 1) * room // max(cost, 1) - 2)
            text = render_excerpt(index.root, ex, max_lines=lines)
            cost = count_tokens(text) + 1
            if used + cost > budget:
                continue
        blocks.append(text)
        used += cost
        if ex.rel not in files:
            files.append(ex.rel)
    return "\n\n".join(blocks), files


def build_context(
    workspace: Path | str,
    task: str = "",
    budget_tokens: int = 8000,
    *,
    data_dir: Path | str | None = None,
    excerpts: bool = True,
    use_git_recency: bool = True,
    max_files: int | None = None,
    exclude: list[str] | None = None,
    explain: bool = False,
    prefer: list[str] | None = None,
) -> ContextResult:
    """Ranked repo map and excerpts for `task`, whose full rendering fits in `budget_tokens`.

    `exclude`: workspace-relative paths never to show (the run's spec file); files whose whole
    text is quoted in the task are left out too, wherever they live. `prefer`: paths to rank
    first, in this order (a model's localization picks); hidden files stay hidden."""
    t0 = time.perf_counter()
    root = Path(workspace).expanduser()
    if not root.is_dir():
        raise NotFound(f"workspace {root} is not a directory", hint="pass an existing folder")
    if not MIN_BUDGET <= budget_tokens <= MAX_BUDGET:
        raise InvalidInput(
            f"budget {budget_tokens} tokens is out of range",
            hint=f"use a budget between {MIN_BUDGET} and {MAX_BUDGET}",
        )
    root = root.resolve()
    with _BUILD_LOCK:  # one build at a time per process: concurrent callers share the cache
        gc_was_enabled = gc.isenabled()
        gc.disable()  # the build allocates ~1e6 small objects and frees no cycles; collections
        try:  # over the loaded cache would cost more than the work itself
            opts = _Options(
                excerpts, use_git_recency, max_files, set(exclude or ()), explain, prefer or []
            )
            return _build(root, task, budget_tokens, data_dir, opts, t0)
        finally:
            if gc_was_enabled:
                gc.enable()


@dataclass
class _Options:
    excerpts: bool
    use_git: bool
    max_files: int | None
    exclude: set[str]
    explain: bool
    prefer: list[str]


def _quoted_in_task(index: RepoIndex, graph: RepoGraph, ranking: Ranking, task: str) -> None:
    """Zero the score of top files whose text the task already contains (the spec itself)."""
    if len(task) < 40:
        return
    squeezed = " ".join(task.split())
    by_score = zip(map(neg, ranking.scores), count())  # ties: the lower index first
    for _, i in nsmallest(SPEC_CHECK_FILES, by_score):
        rel = graph.files[i]
        if ranking.scores[i] <= 0 or index.tags[rel].skip:
            continue
        got = read_regular(os.path.join(index.root, rel), MAX_FILE_BYTES)  # no link, FIFO, device
        if got is None:
            continue
        body = " ".join(got[0].decode("utf-8", errors="replace").split())
        if len(body) >= 40 and body in squeezed:
            ranking.scores[i] = 0.0


def _ranking(
    index: RepoIndex,
    graph: RepoGraph,
    task: str,
    recent: dict[str, float],
    history: History | None,
    hide: set[str],
) -> Ranking:
    """rank_files, or a copy of the ranking this index already made from the same inputs: a
    run ranks its task twice (the localization pass, then its context), and a ranking is a
    function of the graph, the task, the hidden paths, the recent files and the history."""
    kept: list[tuple[str, frozenset[str], dict[str, float], History | None, Ranking]]
    kept = index.memo.setdefault("rankings", [])
    key = frozenset(hide)
    for k_task, k_hide, k_recent, k_history, done in kept:
        if k_task == task and k_hide == key and k_recent == recent and k_history is history:
            return Ranking(list(done.scores), done.hints, done.features, dict(done.weights))
    ranking = rank_files(graph, task, recent, history, hide=hide)
    kept.append((task, key, dict(recent), history, ranking))
    del kept[:-RANKINGS_KEPT]
    scores = list(ranking.scores)  # the build changes its copy (spec check, preferred files)
    return Ranking(scores, ranking.hints, ranking.features, dict(ranking.weights))


def _prefer(graph: RepoGraph, ranking: Ranking, prefer: list[str]) -> None:
    """Lift the preferred files above every other, in their order; a file the ranking hid
    (score 0: spec, scaffolding, excluded, quoted in the task) or that is not indexed stays out."""
    top = max(ranking.scores, default=0.0)
    for k, rel in enumerate(dict.fromkeys(prefer)):
        i = graph.pos.get(rel)
        if i is not None and ranking.scores[i] > 0:
            ranking.scores[i] = top + 1.0 + (len(prefer) - k)


def _build(
    root: Path,
    task: str,
    budget_tokens: int,
    data_dir: Path | str | None,
    opts: _Options,
    t0: float,
) -> ContextResult:
    ddir = default_data_dir(data_dir)
    git = Background(git_features, root, ddir) if opts.use_git else None  # overlaps the parse
    index = repo_index(root, ddir, opts.max_files)
    graph = repo_graph(index, ddir)
    t_index = time.perf_counter()
    recent, history = git.result() if git else ({}, None)
    if not index.listing.is_git:
        recent, history = {}, None
    ranking = _ranking(index, graph, task, recent, history, opts.exclude)
    _quoted_in_task(index, graph, ranking, task)
    _prefer(graph, ranking, opts.prefer)
    scores, hints = ranking.scores, ranking.hints
    t_rank = time.perf_counter()

    notes = _skip_notes(index) + ranking.features.notes
    notes_cost = count_tokens(compose("", "", notes)) + 2
    if notes_cost > budget_tokens // 4:  # notes must never crowd out the map
        notes = (
            notes[:3] + [f"... and {len(notes) - 3} more notes"] if len(notes) > 4 else notes[:1]
        )

    ex_text, ex_files = "", []
    if opts.excerpts and (hints.idents or hints.words):
        cands = excerpt_candidates(index, graph, scores, hints)
        ex_text, ex_files = _fit_excerpts(index, cands, int(budget_tokens * EXCERPT_SHARE))

    entries = map_entries(index, graph, scores, hints)

    def cost(n: int) -> tuple[int, str, list[str]]:
        text, files = render_map(index, graph, entries[:n])
        return count_tokens(compose(text, ex_text, notes)), text, files

    best = cost(0)
    if best[0] > budget_tokens:  # excerpts + notes alone do not fit: drop excerpts
        ex_text, ex_files = "", []
        best = cost(0)
        if best[0] > budget_tokens:
            notes = []
            best = cost(0)
    # Map lines are counted once each (the count is additive over lines, up to merges across a
    # newline); the prefix sums give the largest entry count that fits, then the real count of
    # the full text confirms it, stepping down by bisection in the rare case it is over.
    room = budget_tokens - best[0] - 2
    n, used = 0, 0
    for line_cost in entry_costs(index, graph, entries):
        if used + line_cost > room:
            break
        used += line_cost
        n += 1
    c = cost(n)
    if c[0] <= budget_tokens:
        best = c
    else:
        lo, hi = 0, n - 1
        while lo < hi:  # largest entry count whose full rendering fits
            mid = (lo + hi + 1) // 2
            c = cost(mid)
            if c[0] <= budget_tokens:
                lo, best = mid, c
            else:
                hi = mid - 1
    tokens, map_text, files = best
    t_end = time.perf_counter()
    why: dict[str, list[tuple[str, float]]] = {}
    if opts.explain:
        for rel in dict.fromkeys(ex_files + files):
            i = graph.pos[rel]
            why[rel] = [(k, round(v, 3)) for k, v in ranking.explain(i)]
    return ContextResult(
        map_text=map_text,
        excerpts_text=ex_text,
        files=files,
        excerpt_files=ex_files,
        tokens=tokens,
        budget_tokens=budget_tokens,
        tokenizer=tokenizer_name(),
        notes=notes,
        explain=why,
        stats={
            "files_indexed": len(index.tags),
            "files_parsed": index.parsed,
            "map_files": len(files),
            "index_ms": round((t_index - t0) * 1000, 1),
            "rank_ms": round((t_rank - t_index) * 1000, 1),
            "total_ms": round((t_end - t0) * 1000, 1),
        },
    )


def render_context(
    workspace: Path | str,
    task: str = "",
    budget_tokens: int = 8000,
    *,
    data_dir: Path | str | None = None,
) -> str:
    """Exactly the text the agent is given (what `agentctl context` prints)."""
    return build_context(workspace, task, budget_tokens, data_dir=data_dir).text
