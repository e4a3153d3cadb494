"""Which open documents are specs, and their parse + problems cached per version.

Parsing happens once per document version; diagnostics, code actions, symbols, hover and lenses
all read the cached result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from pygls.uris import to_fs_path

from harness_ls.spec import (
    ParsedSpec,
    Problem,
    SchemaError,
    SpecSchema,
    load_schema,
    parse_spec,
    validate,
)


@lru_cache(maxsize=64)
def _glob_regex(glob: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif glob.startswith("**", i):
            out += ".*"
            i += 2
        elif glob[i] == "*":
            out += "[^/]*"
            i += 1
        elif glob[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(glob[i])
            i += 1
    return re.compile(out + r"\Z")


def matches_any(rel_path: str, globs: list[str]) -> bool:
    return any(_glob_regex(g).match(rel_path) for g in globs)


def uri_key(uri: str) -> str:
    """What a file uri names, for comparing uris: clients escape them differently (Neovim
    leaves `+ ( ) @ , ; = :` as they are, Path.as_uri() and VS Code escape them)."""
    return unquote(uri) if uri.startswith("file:") else uri


@dataclass(slots=True)
class SpecState:
    uri: str
    version: int | None
    text: str
    lines: list[str]
    parsed: ParsedSpec
    problems: list[Problem]
    schema_error: str | None = None


@dataclass
class SpecDocuments:
    """Spec detection (globs relative to a workspace root) and the per-version cache."""

    roots: list[Path] = field(default_factory=list)
    globs: list[str] = field(default_factory=list)
    _cache: dict[str, SpecState] = field(default_factory=dict)
    _is_spec: dict[tuple[str, tuple[str, ...], tuple[Path, ...]], bool] = field(
        default_factory=dict
    )

    def root_for(self, path: Path) -> Path | None:
        best = None
        for root in self.roots:
            try:
                path.relative_to(root)
            except ValueError:
                continue
            if best is None or len(str(root)) > len(str(best)):
                best = root
        return best

    def is_spec(self, uri: str) -> bool:
        """Whether `uri` matches a spec glob (asked on every keystroke: remembered per uri,
        globs and roots)."""
        key = (uri, tuple(self.globs), tuple(self.roots))
        found = self._is_spec.get(key)
        if found is None:
            if len(self._is_spec) > 4096:
                self._is_spec.clear()
            found = self._is_spec[key] = self._match(uri)
        return found

    def _match(self, uri: str) -> bool:
        fs = to_fs_path(uri)
        if not fs:
            return False
        path = Path(fs)
        root = self.root_for(path)
        rel = path.relative_to(root).as_posix() if root else PurePosixPath(path.as_posix()).name
        if root is None:
            # Outside every workspace folder: match the globs against the path's tail.
            parts = path.as_posix().split("/")
            return any(matches_any("/".join(parts[i:]), self.globs) for i in range(len(parts)))
        return matches_any(rel, self.globs)

    def schema_for(self, uri: str) -> tuple[SpecSchema | None, str | None]:
        fs = to_fs_path(uri)
        root = self.root_for(Path(fs)) if fs else None
        try:
            return load_schema(root), None
        except SchemaError as exc:
            return load_schema(None), exc.message

    def get(self, uri: str, version: int | None, text: str) -> SpecState:
        cur = self._cache.get(uri)
        if cur is not None and cur.version == version and cur.text is text:
            return cur
        if cur is not None and cur.text == text:
            cur.version = version
            return cur
        schema, schema_error = self.schema_for(uri)
        parsed = parse_spec(text)
        state = SpecState(
            uri, version, text, parsed.lines, parsed, validate(text, schema, parsed), schema_error
        )
        self._cache[uri] = state
        return state

    def forget(self, uri: str) -> None:
        self._cache.pop(uri, None)

    def invalidate_all(self) -> None:
        self._cache.clear()
