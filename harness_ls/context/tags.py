"""Definitions and references of one file: tree-sitter tags, or a plain outline as fallback.

A file's tags are what the repo map shows (definitions with their signature line) and what links
files in the ranking graph (identifiers one file uses that another defines). Everything here is
bounded: the caller has already capped the size; binary, minified and undecodable files are
classified instead of parsed.
"""

from __future__ import annotations

import marshal
import re
from collections import _count_elements  # type: ignore[attr-defined]  # Counter's C helper
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

from .bm25 import ident_terms as _ident_terms
from .bm25 import terms
from .kinds import generated_text
from .languages import grammar, language_for

IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
MAX_REFS_PER_FILE = 400
MAX_DEFS_PER_FILE = 400
MAX_SIG_CHARS = 140
MINIFIED_AVG_LINE = 300
WORD_REPEAT = 8  # most times one body term enters a file's search words
MINIFIED_MAX_LINE = 4000

# Identifiers too common to link files meaningfully.
STOP_IDENTS = frozenset(
    """self cls this None True False null true false undefined def class return import from
    const let var function func public private protected static void int str string bool
    char float double long new else elif for while break continue pass and not the with
    async await yield try except finally raise throw catch package struct type interface
    enum impl pub mut use mod crate super extends implements end begin module require nil
    args kwargs len print err error value data result list dict get set key val""".split()
)

OUTLINE_RE = re.compile(
    r"^\s*(?:export\s+|public\s+|private\s+|protected\s+|static\s+|async\s+|abstract\s+)*"
    r"(?:def|class|function|func|fn|sub|module|interface|struct|enum|trait|impl|object|"
    r"fun|proc|macro|procedure|record)\s+([A-Za-z_$][\w$]*)"
)
HEADING_RE = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
TOML_SECTION_RE = re.compile(r"^\[\[?([^\]]+)\]\]?\s*$")
YAML_KEY_RE = re.compile(r"^([A-Za-z_][\w.-]*):(?:\s|$)")
MARKDOWN_EXT = (".md", ".markdown", ".rst", ".txt", ".adoc")
_LINE = itemgetter(1)
_COUNT = itemgetter(1)


@dataclass
class FileTags:
    """Tags of one file, JSON-friendly so the cache can store it as a plain list."""

    lang: str | None = None
    skip: str | None = None  # "binary" | "minified" | "huge" | "unreadable" (not mapped)
    lines: int = 0
    defs: list[list[Any]] = field(default_factory=list)  # [name, line, end_line, kind, sig]
    refs: dict[str, int] = field(default_factory=dict)
    outline: bool = False  # defs come from the plain outline, not tree-sitter
    lossy: bool = False  # invalid UTF-8 decoded with replacement characters
    # search terms of the path, definition names and identifiers -> how often (a BM25 document,
    # kept counted: the graph build used to split and count a joined string again)
    words: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> list[Any]:
        return [
            self.lang, self.skip, self.lines, self.defs, self.refs, self.outline, self.lossy,
            self.words,
        ]  # fmt: skip

    @classmethod
    def from_json(cls, raw: list[Any]) -> FileTags:
        return cls(*raw)

    @classmethod
    def cached(
        cls, lang: str | None, skip: str | None, lines: int, blob: bytes, outline: bool, lossy: bool
    ) -> FileTags:
        """Tags from the cache whose definitions stay a marshal blob until first read: a warm
        build shows the definitions of a few hundred files, not of all of them."""
        tags = cls.__new__(cls)
        tags.__dict__ = {
            "lang": lang, "skip": skip, "lines": lines, "refs": {}, "outline": outline,
            "lossy": lossy, "words": {}, "_defs_blob": blob,
        }  # fmt: skip
        return tags

    def defs_blob(self) -> bytes:
        """The definitions as the cache stores them (the blob itself when never decoded)."""
        if "defs" not in self.__dict__:  # set definitions (a re-parse) win over a blob
            blob = self.__dict__.get("_defs_blob")
            if blob is not None:
                return blob
        return marshal.dumps(self.defs)

    def __getattr__(self, name: str) -> Any:  # only reached for attributes not set
        blob = self.__dict__.pop("_defs_blob", None) if name == "defs" else None
        if blob is None:
            raise AttributeError(name)
        try:
            defs = marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            defs = None
        self.defs = defs if isinstance(defs, list) else []
        return self.defs


def looks_binary(head: bytes) -> bool:
    return b"\x00" in head[:8192]


def looks_minified(text: str, name: str, newlines: int | None = None) -> bool:
    if ".min." in name:
        return True
    lines = (text.count("\n") if newlines is None else newlines) + 1
    if len(text) / lines > MINIFIED_AVG_LINE:
        return True
    return len(text) > MINIFIED_MAX_LINE and max(map(len, text.splitlines())) > MINIFIED_MAX_LINE


def decode(data: bytes) -> tuple[str, bool]:
    """Text of a file and whether it was lossy (invalid UTF-8 replaced, never a crash)."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def _path_words(rel_path: str) -> dict[str, int]:
    words: dict[str, int] = {}
    _count_elements(words, terms(rel_path))
    return words


def extract(rel_path: str, data: bytes) -> FileTags:
    """Tags of one file's bytes."""
    if looks_binary(data):
        return FileTags(skip="binary", words=_path_words(rel_path))
    text, lossy = decode(data)
    newlines = text.count("\n")
    if looks_minified(text, rel_path, newlines):
        return FileTags(skip="minified", lossy=lossy, words=_path_words(rel_path))
    if generated_text(text[:600]):
        return FileTags(skip="generated", lossy=lossy, words=_path_words(rel_path))
    lang = language_for(rel_path)
    tags = _tree_sitter_tags(lang, data, text) if lang else None
    if tags is None:
        tags = _outline_tags(rel_path, text)
    tags.lines = newlines + (0 if text.endswith("\n") or not text else 1)
    tags.lossy = lossy
    tags.refs = _references(text, tags.defs)
    tags.words = _words(rel_path, tags.defs, tags.refs)
    return tags


def _words(rel_path: str, defs: list[list[Any]], refs: dict[str, int]) -> dict[str, int]:
    """Term counts of the path (twice), the definition names, and the identifiers used, each
    body term at most WORD_REPEAT times (frequent words saturate). Each identifier's count can
    be capped first (min(sum, k) == min(sum of min(c, k), k)), so Counter's C loop counts."""
    path_terms = terms(rel_path)
    words: dict[str, int] = {}
    _count_elements(words, path_terms + path_terms)
    _count_elements(words, chain.from_iterable([_ident_terms(d[0]) for d in defs]))
    body: dict[str, int] = {}
    _count_elements(
        body,
        chain.from_iterable(
            [_ident_terms(ident) * min(count, WORD_REPEAT) for ident, count in refs.items()]
        ),
    )
    get = words.get
    for term, count in body.items():
        words[term] = get(term, 0) + (count if count < WORD_REPEAT else WORD_REPEAT)
    return words


def _signature(lines: list[str], row: int) -> str:
    """The definition's head: its first line, continued while brackets stay open."""
    out = lines[row].strip() if row < len(lines) else ""
    extra = 0
    while out.count("(") > out.count(")") and extra < 4 and row + extra + 1 < len(lines):
        extra += 1
        out += " " + lines[row + extra].strip()
    return out if len(out) <= MAX_SIG_CHARS else out[: MAX_SIG_CHARS - 1] + "…"


def _tree_sitter_tags(lang: str, data: bytes, text: str) -> FileTags | None:
    gram = grammar(lang)
    if gram is None:
        return None
    import tree_sitter as ts

    try:
        tree = gram.parser.parse(data)
        cursor = ts.QueryCursor(gram.query)
        cursor.match_limit = 2048
        matches = cursor.matches(tree.root_node)
    except Exception:  # a grammar that rejects input must not fail the whole build
        return None
    lines = text.splitlines()
    nlines = len(lines)
    defs: list[list[Any]] = []
    seen: set[tuple[str, int]] = set()
    kinds = gram.kinds
    for pattern, caps in matches:
        names = caps.get("name")
        if not names:
            continue
        kind = kinds.get(pattern)
        if kind not in caps:  # a pattern with several definition captures: look
            kind = next((k for k in caps if k.startswith("definition.")), None)
            if kind is None:
                continue
        node = caps[kind][0]
        raw = names[0].text
        try:
            name = raw.decode()
        except UnicodeDecodeError:
            name = raw.decode("utf-8", errors="replace")
        row = node.start_point[0]
        if (name, row) in seen:
            continue
        seen.add((name, row))
        head = lines[row].strip() if row < nlines else ""
        # most heads are one short line, their brackets closed (then _signature keeps it)
        if len(head) > MAX_SIG_CHARS or ("(" in head and head.count("(") > head.count(")")):
            head = _signature(lines, row)
        defs.append([name, row + 1, node.end_point[0] + 1, kind[11:], head])
        if len(defs) >= MAX_DEFS_PER_FILE:
            break
    defs.sort(key=_LINE)
    return FileTags(lang=lang, defs=defs)


def _outline_tags(rel_path: str, text: str) -> FileTags:
    """Plain outline for files without a grammar: headings, sections, keyword definitions."""
    defs: list[list[Any]] = []
    lower = rel_path.lower()
    is_doc = lower.endswith(MARKDOWN_EXT)
    is_toml = lower.endswith(".toml") or lower.endswith(".ini") or lower.endswith(".cfg")
    is_yaml = lower.endswith((".yml", ".yaml"))
    for row, line in enumerate(text.splitlines()):
        if len(defs) >= MAX_DEFS_PER_FILE or len(line) > 400:
            continue
        if is_doc:
            m = HEADING_RE.match(line)
            if m:
                defs.append([m.group(2), row + 1, row + 1, "heading", line.strip()])
            continue
        m = (TOML_SECTION_RE if is_toml else YAML_KEY_RE if is_yaml else OUTLINE_RE).match(line)
        if m:
            sig = line.strip()
            sig = sig if len(sig) <= MAX_SIG_CHARS else sig[: MAX_SIG_CHARS - 1] + "…"
            defs.append([m.group(1), row + 1, row + 1, "outline", sig])
    return FileTags(lang=None, defs=defs, outline=True)


def _references(text: str, defs: list[list[Any]]) -> dict[str, int]:
    """Identifiers the file uses (minus its own definitions' names), most frequent first."""
    counts: dict[str, int] = {}
    _count_elements(counts, IDENT_RE.findall(text))  # Counter's C loop, without a Counter
    for d in defs:
        c = counts.get(d[0])
        if c is not None:
            if c > 1:
                counts[d[0]] = c - 1
            else:
                del counts[d[0]]
    for word in STOP_IDENTS.intersection(counts):
        del counts[word]
    # Counter.most_common(n): the n first of a stable sort by count, descending
    return dict(sorted(counts.items(), key=_COUNT, reverse=True)[:MAX_REFS_PER_FILE])
