"""Which heading stands for which schema section: exact, at the wrong level, or a near miss.

Pure and asked on every keystroke for the same few headings, so the string work is cached.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from harness_ls.spec.parse import ParsedSpec
from harness_ls.spec.schema import SectionSpec, SpecSchema

_SPACES = re.compile(r"\s+")
_SLASH = re.compile(r"\s*/\s*")


@lru_cache(maxsize=4096)
def normalize(heading: str) -> str:
    """Case-folded heading text with spacing and trailing punctuation made uniform."""
    h = _SPACES.sub(" ", heading.strip()).rstrip(":").strip()
    return _SLASH.sub(" / ", h).casefold()


@dataclass(slots=True)
class Match:
    section: SectionSpec
    index: int  # index into parsed.headings
    kind: str  # "exact" | "level" | "near"


@lru_cache(maxsize=4096)
def _similar(a: str, b: str) -> bool:
    """Near-miss headings (pure, and asked again on every keystroke: cached)."""
    if not a or not b:
        return False
    if min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def classify(parsed: ParsedSpec, schema: SpecSchema) -> tuple[dict[str, Match], list[Match]]:
    """Best heading per section (exact > wrong level > near miss) and later exact duplicates."""
    best: dict[str, Match] = {}
    duplicates: list[Match] = []
    rank = {"exact": 0, "level": 1, "near": 2}
    wanted = _wanted(schema)
    for idx, h in enumerate(parsed.headings):
        text = _SPACES.sub(" ", h.text)
        norm = normalize(h.text)
        for section, exact_text, norm_heading, aliases in wanted:
            if text == exact_text and h.level == section.level:
                kind = "exact"
            elif text == exact_text or (norm == norm_heading and h.level != section.level):
                kind = "level" if text == exact_text else "near"
            elif (
                norm == norm_heading
                or norm in aliases
                or (h.level <= section.level + 1 and _similar(norm, norm_heading))
            ):
                kind = "near"
            else:
                continue
            cur = best.get(section.id)
            if cur is None or rank[kind] < rank[cur.kind]:
                best[section.id] = Match(section, idx, kind)
            elif kind == "exact" and cur.kind == "exact":
                duplicates.append(Match(section, idx, kind))
            break
    return best, duplicates


_WANTED: dict[int, tuple[SpecSchema, list]] = {}


def _wanted(schema: SpecSchema) -> list:
    """(section, exact heading, normalized heading, normalized aliases) per section, per schema."""
    hit = _WANTED.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    wanted = [
        (s, s.heading.strip(), normalize(s.heading), {normalize(a) for a in s.aliases})
        for s in schema.sections
    ]
    if len(_WANTED) > 64:
        _WANTED.clear()
    _WANTED[id(schema)] = (schema, wanted)
    return wanted
