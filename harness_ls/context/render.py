"""Text the agent sees: the ranked map (files and definition signatures) and fenced excerpts."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from operator import neg
from pathlib import Path

from harness_ls.nofollow import read_regular

from .cache import RepoIndex
from .files import MAX_FILE_BYTES
from .languages import FENCE_NAMES, language_for
from .rank import RepoGraph, TaskHints
from .tokens import count_tokens

MAX_MAP_FILES = 600
RANK_DECAY = 0.6  # file entry weight = (rank + 1) ** -RANK_DECAY
MAX_EXCERPT_LINES = 60
CONTAINER_LINES = 15  # a class/module excerpt is its head; its members have map lines
CONTAINERS = frozenset({"class", "interface", "module", "implementation"})
CONTEXT_LINES = 3
DEF_DECAY = 0.5  # a file's k-th best definition weighs (k + 1) ** -DEF_DECAY
EXCERPT_FILES = 12  # files that get change-site excerpts
EXCERPT_DECAY = 1.0  # the r-th file's blocks weigh (r + 1) ** -EXCERPT_DECAY
# a file's k-th block weighs BLOCK_DECAY ** k: the first sites of more files before a deeper look
# into one (train content 95 -> 96 % with history, 94 -> 95 % without; held-out 90 -> 92 %)
BLOCK_DECAY = 0.25
SITE_LINES = 40  # a longer matching definition is shown as a window around its best hit
HEAD_LINES = 20
_DEF_DECAY_TABLE = [(k + 1) ** -DEF_DECAY for k in range(512)]  # the same floats, looked up


# One map line: (-score, file index, line; 0 = the file's own entry, its path line). Plain
# tuples sort natively (fast): by -score, then file, then line.
Entry = tuple[float, int, int]


def _def_weight(graph: RepoGraph, hints: TaskHints, d: list) -> float:
    """Share of its file's score a definition line gets. Kept well below 1 so the map goes
    broad (more files, their key definitions) before it goes deep into one file."""
    name, kind = d[0], d[3]
    if name in hints.idents:
        return 0.999
    base = 0.05 if kind in ("heading", "outline") else 0.1
    w = base + 0.3 * min(1.0, math.log1p(graph.inbound.get(name, 0)) / math.log1p(20))
    return w * (0.5 if name.startswith("_") else 1.0)


def rank_order(graph: RepoGraph, scores: list[float]) -> list[int]:
    """File indexes by score, best first, ties by path (tuples compared in C, no key calls)."""
    keyed = zip(map(neg, scores), graph.files, range(len(scores)), strict=True)
    return [i for _, _, i in sorted(keyed)]


def _def_rows(
    graph: RepoGraph, hints: TaskHints, defs: list, seen: dict[tuple[str, str], float]
) -> list[tuple[float, float, int]]:
    """(weight, decay, line) of a file's definitions, best first: each further one is worth less."""
    pairs = []
    for d in defs:
        key = (d[0], d[3])
        w = seen.get(key)
        if w is None:  # names recur across files: weigh each (name, kind) once
            w = seen[key] = _def_weight(graph, hints, d)
        pairs.append((w, d[1]))
    pairs.sort(reverse=True)
    decay = _DEF_DECAY_TABLE
    return [
        (w, 1.0 if w > 0.99 else decay[k] if k < len(decay) else (k + 1) ** -DEF_DECAY, line)
        for k, (w, line) in enumerate(pairs)
    ]


def map_entries(
    index: RepoIndex, graph: RepoGraph, scores: list[float], hints: TaskHints
) -> list[Entry]:
    """Candidate map lines, best first; a file's own entry always precedes its definitions.

    A file's definition rows depend on the task only through the names it mentions, so the
    rows of a file defining none of them are kept with the index (a daemon reuses them)."""
    order = rank_order(graph, scores)[:MAX_MAP_FILES]
    rows: list[Entry] = []
    seen: dict[tuple[str, str], float] = {}
    memo: dict[int, tuple[frozenset[str], list[tuple[float, float, int]]]]
    memo = index.memo.setdefault("def_rows", {})
    idents = hints.idents
    rank = 0
    for i in order:
        tags = index.tags[graph.files[i]]
        if tags.skip or scores[i] <= 0:
            continue
        # By rank, not raw score: PageRank mass falls off so fast that raw scores would spend the
        # whole budget on the top files' minor definitions. This shape gives the top files their
        # key definitions, then goes broad (paths of the next files) before going deep.
        s = (rank + 1) ** -RANK_DECAY
        rank += 1
        rows.append((-s, i, 0))
        hit = memo.get(i)
        if hit is not None and idents.isdisjoint(hit[0]):
            defs_rows = hit[1]
        else:
            defs = tags.defs
            defs_rows = _def_rows(graph, hints, defs, seen)
            if hit is None:
                names = frozenset([d[0] for d in defs])
                if idents.isdisjoint(names):
                    memo[i] = (names, defs_rows)
        ns = -s
        rows += [(ns * w * f, i, line) for w, f, line in defs_rows]
    rows.sort()
    return rows


def render_map(index: RepoIndex, graph: RepoGraph, entries: list[Entry]) -> tuple[str, list[str]]:
    """Map text for the chosen entries, files in rank order, definitions in line order."""
    by_file: dict[int, list[int]] = {}
    for _, i, line in entries:
        lines = by_file.setdefault(i, [])
        if line:
            lines.append(line)
    chunks: list[str] = []
    files: list[str] = []
    for i, lines in by_file.items():
        rel = graph.files[i]
        files.append(rel)
        chunks.append(rel + ":")
        wanted = set(lines)
        for d in index.tags[rel].defs:
            if d[1] in wanted:
                wanted.discard(d[1])
                chunks.append(f"  {d[1]}: {d[4]}")
    return "\n".join(chunks), files


def entry_costs(index: RepoIndex, graph: RepoGraph, entries: list[Entry]) -> Iterator[int]:
    """Tokens each entry adds to the map (its line plus the newline), lazily, in entry order."""
    sigs: dict[int, dict[int, str]] = {}
    for _, i, line in entries:
        rel = graph.files[i]
        if not line:
            yield count_tokens(rel + ":") + 1
            continue
        by_line = sigs.get(i)
        if by_line is None:
            by_line = sigs[i] = {d[1]: d[4] for d in reversed(index.tags[rel].defs)}
        yield count_tokens(f"  {line}: {by_line.get(line, '')}") + 1


# --- excerpts -------------------------------------------------------------------------------


@dataclass
class Excerpt:
    rel: str
    start: int  # 1-based inclusive
    end: int
    priority: float


def _read_lines(root: Path, rel: str) -> list[str]:
    # as parse_one reads: no link followed, non-blocking, regular files of at most the map's cap
    got = read_regular(os.path.join(root, rel), MAX_FILE_BYTES)
    return got[0].decode("utf-8", errors="replace").splitlines() if got else []


def _task_pattern(hints: TaskHints) -> re.Pattern[str] | None:
    words = {w for w in hints.words if len(w) >= 3} | {w.lower() for w in hints.idents}
    if not words:
        return None
    return re.compile(r"(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")",
                      re.IGNORECASE)  # fmt: skip


def _enclosing(defs: list, line: int) -> list | None:
    """The innermost non-container definition around a line (a method, not its whole class)."""
    best = None
    for d in defs:
        if d[1] <= line <= d[2] and d[3] not in ("heading", "outline"):
            if best is None or (d[2] - d[1]) < (best[2] - best[1]):
                best = d
    return best


def _file_blocks(
    index: RepoIndex, rel: str, hints: TaskHints, pattern
) -> list[tuple[float, int, int]]:
    """(strength, start, end) of the change sites the task points at in one file, best first."""
    tags = index.tags[rel]
    defs = tags.defs
    blocks: list[tuple[float, int, int]] = []
    for d in defs:
        if d[0] in hints.idents:
            span = CONTAINER_LINES if d[3] in CONTAINERS else MAX_EXCERPT_LINES
            blocks.append((4.0, d[1], min(d[2], d[1] + span - 1)))
    hits: dict[int, int] = {}
    if pattern is not None:
        for n, line in enumerate(_read_lines(index.root, rel), start=1):
            if len(line) <= 400:
                found = {m.lower() for m in pattern.findall(line)}
                if found:
                    hits[n] = len(found)
    # Group hits by enclosing definition: the definition with the most distinct matches is the
    # likeliest change site; show it whole when short, else a window around its best hit.
    by_def: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for n, k in hits.items():
        d = _enclosing(defs, n)
        if d and d[3] in CONTAINERS and n < d[1] + CONTAINER_LINES:
            key = (d[1], min(d[2], d[1] + CONTAINER_LINES - 1))  # a class's head, not its body
        elif d and d[3] not in CONTAINERS:
            key = (d[1], d[2])
        else:
            key = (max(1, n - CONTEXT_LINES), n + CONTEXT_LINES)
        by_def.setdefault(key, []).append((k, n))
    for (start, end), found in by_def.items():
        strength = sum(k for k, _ in found) ** 0.5
        if end - start + 1 > SITE_LINES:
            best = max(found)[1]
            start, end = max(start, best - SITE_LINES // 3), min(end, best + 2 * SITE_LINES // 3)
        blocks.append((strength, start, end))
    if not blocks:  # nothing matched: the file's head (imports, first definitions)
        blocks.append((0.5, 1, min(tags.lines or HEAD_LINES, HEAD_LINES)))
    blocks.sort(key=lambda b: (-b[0], b[1]))
    return blocks


def excerpt_candidates(
    index: RepoIndex,
    graph: RepoGraph,
    scores: list[float],
    hints: TaskHints,
    *,
    top_files: int = EXCERPT_FILES,
) -> list[Excerpt]:
    """Change sites in the top-ranked files, valued by marginal worth: a file's rank weight times
    how strongly the block matches, times BLOCK_DECAY for each further block of the same file
    (so the budget covers the top files' best sites before going deep into one)."""
    pattern = _task_pattern(hints)
    order = rank_order(graph, scores)
    out: list[Excerpt] = []
    rank = 0
    for i in order:
        if rank >= top_files or scores[i] <= 0:
            break
        rel = graph.files[i]
        if index.tags[rel].skip:
            continue
        weight = (rank + 1) ** -EXCERPT_DECAY
        rank += 1
        for k, (strength, start, end) in enumerate(_file_blocks(index, rel, hints, pattern)[:4]):
            value = weight * (1.0 + min(strength, 4.0)) * BLOCK_DECAY**k
            out.append(Excerpt(rel, start, end, value))
    return out


def merge_excerpts(cands: list[Excerpt]) -> list[Excerpt]:
    """Overlapping or adjacent ranges of one file become one, keeping the best priority."""
    by_file: dict[str, list[Excerpt]] = {}
    for c in cands:
        by_file.setdefault(c.rel, []).append(c)
    merged: list[Excerpt] = []
    for rel, items in by_file.items():
        items.sort(key=lambda e: e.start)
        cur = Excerpt(rel, items[0].start, items[0].end, items[0].priority)
        for e in items[1:]:
            if e.start <= cur.end + 2 and max(cur.end, e.end) - cur.start < MAX_EXCERPT_LINES * 2:
                cur.end = max(cur.end, e.end)
                cur.priority = max(cur.priority, e.priority)
            else:
                merged.append(cur)
                cur = Excerpt(rel, e.start, e.end, e.priority)
        merged.append(cur)
    merged.sort(key=lambda e: -e.priority)
    return merged


def render_excerpt(root: Path, ex: Excerpt, max_lines: int | None = None) -> str:
    lines = _read_lines(root, ex.rel)
    end = min(ex.end, len(lines))
    if max_lines is not None:
        end = min(end, ex.start + max_lines - 1)
    if ex.start > end:
        return ""
    body = "\n".join(f"{n}| {lines[n - 1]}" for n in range(ex.start, end + 1))
    lang = language_for(ex.rel) or ""
    fence = FENCE_NAMES.get(lang, lang)
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ex.rel}:{ex.start}-{end}\n{ticks}{fence}\n{body}\n{ticks}"
