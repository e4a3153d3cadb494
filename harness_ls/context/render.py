"""Text the agent sees: the ranked map (files and definition signatures) and fenced excerpts."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .cache import RepoIndex
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


class Entry(NamedTuple):
    """One map line. Tuples sort natively (fast): by -score, then file, then line."""

    neg_score: float
    file: int
    line: int  # 0 = the file's own entry (its path line)

    @property
    def score(self) -> float:
        return -self.neg_score


def _def_weight(graph: RepoGraph, hints: TaskHints, d: list) -> float:
    """Share of its file's score a definition line gets. Kept well below 1 so the map goes
    broad (more files, their key definitions) before it goes deep into one file."""
    name, kind = d[0], d[3]
    if name in hints.idents:
        return 0.999
    base = 0.05 if kind in ("heading", "outline") else 0.1
    w = base + 0.3 * min(1.0, math.log1p(graph.inbound.get(name, 0)) / math.log1p(20))
    return w * (0.5 if name.startswith("_") else 1.0)


def map_entries(
    index: RepoIndex, graph: RepoGraph, scores: list[float], hints: TaskHints
) -> list[Entry]:
    """Candidate map lines, best first; a file's own entry always precedes its definitions."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], graph.files[i]))[:MAX_MAP_FILES]
    out: list[Entry] = []
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
        out.append(Entry(-s, i, 0))
        weights = sorted(((_def_weight(graph, hints, d), d[1]) for d in tags.defs), reverse=True)
        for k, (w, line) in enumerate(weights):  # each further definition is worth less
            out.append(Entry(-s * w * (1.0 if w > 0.99 else (k + 1) ** -DEF_DECAY), i, line))
    out.sort()
    return out


def render_map(index: RepoIndex, graph: RepoGraph, entries: list[Entry]) -> tuple[str, list[str]]:
    """Map text for the chosen entries, files in rank order, definitions in line order."""
    by_file: dict[int, list[int]] = {}
    for e in entries:
        lines = by_file.setdefault(e.file, [])
        if e.line:
            lines.append(e.line)
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
    for e in entries:
        rel = graph.files[e.file]
        if not e.line:
            yield count_tokens(rel + ":") + 1
            continue
        by_line = sigs.get(e.file)
        if by_line is None:
            by_line = sigs[e.file] = {d[1]: d[4] for d in reversed(index.tags[rel].defs)}
        yield count_tokens(f"  {e.line}: {by_line.get(e.line, '')}") + 1


# --- excerpts -------------------------------------------------------------------------------


@dataclass
class Excerpt:
    rel: str
    start: int  # 1-based inclusive
    end: int
    priority: float


def _read_lines(root: Path, rel: str) -> list[str]:
    try:
        return (root / rel).read_bytes().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return []


def excerpt_candidates(
    index: RepoIndex, graph: RepoGraph, scores: list[float], hints: TaskHints, *, top_files: int = 8
) -> list[Excerpt]:
    """Definitions the task names, then task-matching lines in the top-ranked files."""
    out: list[Excerpt] = []
    for name in hints.idents:
        defs = graph.definers[name]
        if name in hints.scoped:  # Owner.member: the member as defined in Owner's file
            defs = [i for i in defs if i in hints.scoped[name]] or defs
        if len(defs) > 3:
            continue
        for i in defs:
            rel = graph.files[i]
            for d in index.tags[rel].defs:
                if d[0] == name:
                    span = CONTAINER_LINES if d[3] in CONTAINERS else MAX_EXCERPT_LINES
                    end = min(d[2], d[1] + span - 1)
                    out.append(Excerpt(rel, d[1], end, 10.0 + scores[i]))
    words = {w for w in hints.words if len(w) >= 4} | {w.lower() for w in hints.idents}
    if not words:
        return out
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words))) + r")", re.IGNORECASE)
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    shown = 0
    for i in order:
        if shown >= top_files:
            break
        rel = graph.files[i]
        tags = index.tags[rel]
        if tags.skip:
            continue
        shown += 1
        hits: list[tuple[int, int]] = []
        for n, line in enumerate(_read_lines(index.root, rel), start=1):
            if len(line) > 400:
                continue
            found = {m.lower() for m in pattern.findall(line)}
            if found:
                hits.append((len(found), n))
        hits.sort(key=lambda h: (-h[0], h[1]))
        for k, n in hits[:3]:
            out.append(
                Excerpt(rel, max(1, n - CONTEXT_LINES), n + CONTEXT_LINES, scores[i] * (1 + k))
            )
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
