"""`.gitignore` awareness for list_dir and the Python search fallback (ripgrep does its own).

Reads the workspace's `.gitignore` files (root and nested) and `.git/info/exclude`; the last
matching rule wins, `!` re-includes, and nothing inside an ignored directory comes back (as in git).
`.git` itself is always skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import harness_ls.nofollow as nofollow
from harness_ls.tools.globs import PathPattern

ALWAYS_SKIP = frozenset({".git"})
MAX_RULES_BYTES = 1024 * 1024


class _Rule:
    __slots__ = ("pattern", "negate")

    def __init__(self, line: str) -> None:
        self.negate = line.startswith("!")
        body = line[1:] if self.negate else line
        if body.startswith("\\"):
            body = body[1:]
        self.pattern = PathPattern(body)


def _parse(text: str) -> list[_Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            line += " "
        if not line or line.startswith("#"):
            continue
        rules.append(_Rule(line))
    return rules


class GitIgnore:
    """Ignore rules for one workspace; directory rule files are read lazily and cached."""

    def __init__(self, root: Path, hidden: str | None = None) -> None:
        self.root = Path(os.path.realpath(root))
        self._hidden = hidden  # a folder no walk enters (the data dir, when the workspace holds it)
        self._cache: dict[str, list[_Rule]] = {}
        exclude = self.root / ".git" / "info" / "exclude"
        self._exclude = _parse(_read(exclude, follow=True))  # in .git/: no agent plants a link

    def _rules(self, base: str) -> list[_Rule]:
        rules = self._cache.get(base)
        if rules is None:
            file = self.root / base / ".gitignore" if base else self.root / ".gitignore"
            rules = _parse(_read(file))
            if not base:
                rules = self._exclude + rules
            self._cache[base] = rules
        return rules

    def _own(self, rel: str, is_dir: bool) -> bool | None:
        """Verdict of the rule files alone for `rel` (ancestors not considered); None = no rule."""
        if rel == self._hidden:
            return True
        verdict: bool | None = None
        parts = rel.split("/")
        for depth in range(len(parts)):
            base = "/".join(parts[:depth])
            sub = "/".join(parts[depth:])
            for rule in self._rules(base):
                if rule.pattern.matches(sub, is_dir):
                    verdict = not rule.negate
        return verdict

    def ignored(self, rel: str, is_dir: bool = False) -> bool:
        """Whether the workspace-relative posix path `rel` is ignored (ancestors included)."""
        if rel in ("", "."):
            return False
        parts = rel.split("/")
        if any(p in ALWAYS_SKIP for p in parts):
            return True
        for k in range(1, len(parts)):
            if self._own("/".join(parts[:k]), True):
                return True
        return bool(self._own(rel, is_dir))

    def walk(self, start: str = "") -> Iterator[tuple[str, list[str], list[str]]]:
        """os.walk over the workspace from `start` with ignored entries pruned; symlinks not followed.

        Yields (dir_rel, dir_names, file_names); callers may prune `dir_names` in place.
        """
        top = self.root / start if start else self.root
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            rel_dir = Path(os.path.relpath(dirpath, self.root)).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            prefix = rel_dir + "/" if rel_dir else ""
            dirnames[:] = sorted(
                d for d in dirnames if d not in ALWAYS_SKIP and not self._own(prefix + d, True)
            )
            files = sorted(f for f in filenames if not self._own(prefix + f, False))
            yield rel_dir, dirnames, files


def _read(path: Path, *, follow: bool = False) -> str:
    """A rule file's text: read as git reads one since 2.32 — never through a link (a
    `.gitignore -> ~/x` would read a file of yours, `-> /proc/kcore` forever), non-blocking, a
    regular file only, at most 1 MiB; anything else has no rules."""
    try:
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path, flags) if follow else nofollow.open_file(os.fspath(path), flags)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return fh.read(MAX_RULES_BYTES).decode("utf-8", errors="replace")
