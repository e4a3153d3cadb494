"""Gitignore-style glob patterns, shared by .gitignore handling and policy rules.

`*` stays within one path segment, `**` crosses segments, a pattern with a `/` (other than a
trailing one) is anchored at its base, one without matches a name at any depth, a trailing `/`
matches directories only.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def _compile(body: str) -> re.Pattern[str]:
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == "*":
            if body.startswith("**", i):
                before_ok = i == 0 or body[i - 1] == "/"
                j = i + 2
                if before_ok and j < n and body[j] == "/":
                    out.append("(?:.*/)?")
                    i = j + 1
                    continue
                out.append(".*")
                i = j
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = body.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
            else:
                cls = body[i + 1 : end]
                if cls.startswith("!"):
                    cls = "^" + cls[1:]
                out.append("[" + cls.replace("\\", "\\\\") + "]")
                i = end + 1
                continue
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


class PathPattern:
    """One gitignore-style pattern, matched against posix paths relative to its base."""

    __slots__ = ("source", "anchored", "dir_only", "regex", "literal_tail")

    def __init__(self, pattern: str) -> None:
        self.source = pattern
        body = pattern
        self.dir_only = body.endswith("/") and len(body) > 1
        body = body.rstrip("/") if self.dir_only else body
        self.anchored = "/" in body
        body = body.lstrip("/")
        self.regex = _compile(body)
        self.literal_tail = not any(c in body.rsplit("/", 1)[-1] for c in "*?[")

    def matches(self, rel: str, is_dir: bool = False) -> bool:
        """Whether `rel` itself matches (no ancestor logic)."""
        if self.dir_only and not is_dir:
            return False
        if self.anchored:
            return self.regex.fullmatch(rel) is not None
        name = rel.rsplit("/", 1)[-1]
        return self.regex.fullmatch(name) is not None

    def matches_or_within(self, rel: str) -> bool:
        """Whether `rel` matches, or lies under a directory the pattern names literally
        (`docs` and `docs/` cover `docs/a.md`; `docs/*` covers only direct children)."""
        if self.matches(rel, is_dir=False):
            return True
        if not (self.literal_tail or self.dir_only):
            return False
        parts = rel.split("/")
        for k in range(len(parts) - 1, 0, -1):
            if self.matches("/".join(parts[:k]), is_dir=True):
                return True
        return False
