"""Which grammar parses which file, loaded lazily and offline.

tree-sitter-language-pack 1.x downloads its grammars at run time, which fails on an offline
machine; its *tags queries* are bundled, though. So grammars come from the per-language PyPI
wheels (tree-sitter-python, tree-sitter-javascript, ...), which ship compiled parsers, and the
queries from the pack. A language whose wheel or query is missing falls back to a plain outline.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

# language -> (module, function returning the language capsule)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
}

# TypeScript's tags query only adds TS-specific patterns on top of JavaScript's.
QUERY_PARTS: dict[str, tuple[str, ...]] = {
    "typescript": ("javascript", "typescript"),
    "tsx": ("javascript", "typescript"),
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
    ".rake": "ruby",
}

FENCE_NAMES: dict[str, str] = {"tsx": "tsx", "cpp": "cpp"}
DEF_CAPTURE_RE = re.compile(r"@(definition\.[\w.]+)")


@dataclass(frozen=True)
class Grammar:
    name: str
    parser: Any  # tree_sitter.Parser
    query: Any  # tree_sitter.Query
    kinds: dict[int, str]  # pattern index -> its only `definition.*` capture name


def language_for(rel_path: str) -> str | None:
    """The tags language of a path, by extension (None: outline only)."""
    dot = rel_path.rfind(".")
    if dot < 0:
        return None
    return EXTENSIONS.get(rel_path[dot:].lower())


@cache
def grammar(name: str) -> Grammar | None:
    """Parser and tags query for a language, or None when either cannot be had offline."""
    try:
        import tree_sitter as ts
        import tree_sitter_language_pack as pack

        module, func = GRAMMARS[name]
        lang = ts.Language(getattr(importlib.import_module(module), func)())
        parts = [pack.get_tags_query(part) or "" for part in QUERY_PARTS.get(name, (name,))]
        source = "\n".join(p for p in parts if p)
        if not source:
            return None
        query = ts.Query(lang, source)
        return Grammar(name, ts.Parser(lang), query, _definitions_only(query, source))
    except Exception as exc:  # missing wheel, ABI mismatch, query/grammar version skew
        log.debug("no tags grammar for %s: %s", name, exc)
        return None


def _definitions_only(query: Any, source: str) -> dict[int, str]:
    """Disable the tags query's reference-only patterns (the map needs definitions; references
    come from a plain identifier scan, and matching call sites cost a third of the query time);
    return, per remaining pattern with a single definition capture, that capture's name (the
    per-match lookup of the kind was a tenth of a cold build)."""
    raw = source.encode("utf-8")
    kinds: dict[int, str] = {}
    for i in range(query.pattern_count):
        text = raw[query.start_byte_for_pattern(i) : query.end_byte_for_pattern(i)].decode()
        found = set(DEF_CAPTURE_RE.findall(text))
        if not found:
            query.disable_pattern(i)
        elif len(found) == 1:
            kinds[i] = found.pop()
    return kinds


def available() -> list[str]:
    """Languages with a working grammar on this machine (for notes and cache keys)."""
    return [name for name in GRAMMARS if grammar(name) is not None]


@cache
def installed() -> list[str]:
    """Languages whose grammar wheel is importable: a cheap check (no grammar is loaded), used to
    invalidate cached outlines once a grammar gets installed."""
    return [name for name, (module, _) in GRAMMARS.items() if importlib.util.find_spec(module)]


def grammar_package(name: str) -> str:
    """The PyPI distribution that ships a language's grammar (for hints)."""
    return GRAMMARS[name][0].replace("_", "-")
