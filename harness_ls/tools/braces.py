"""Bash brace expansion of a literal word, bounded: what `a.{txt,bak}` or `x{1..3}` names.

The protected-path check expands a written word as bash would before matching it, so
`cp x .gi{t,}/config` is seen to reach `.git/config`; past MAX_EXPANSIONS the word is unknown
(asked about), never expanded without end (`{1..100000000}`).
"""

from __future__ import annotations

import re
from itertools import islice

MAX_EXPANSIONS = 256  # brace / glob results looked at per word; beyond that the word is unknown


def expand_braces(word: str, cap: int = MAX_EXPANSIONS) -> list[str] | None:
    """Bash brace expansion of a literal word (`a.{txt,bak}`, `x{1..3}`); None past `cap`."""
    if "{" not in word:
        return [word]
    out, todo = [], [word]
    while todo:
        cur = todo.pop()
        m = _first_brace(cur)
        if m is None:
            out.append(cur)
        else:
            start, end, items = m
            todo += [cur[:start] + item + cur[end:] for item in reversed(items)]
        if len(out) + len(todo) > cap:
            return None
    return out


_SEQ = re.compile(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?|([A-Za-z])\.\.([A-Za-z])")


def _first_brace(word: str) -> tuple[int, int, list[str]] | None:
    """The first expandable `{…}`: (start, end, alternatives)."""
    for start, ch in enumerate(word):
        if ch != "{" or (start and word[start - 1] == "$"):
            continue
        depth, items, last = 0, [], start + 1
        for i in range(start + 1, len(word)):
            c = word[i]
            if c == "{":
                depth += 1
            elif c == "}" and depth:
                depth -= 1
            elif c == "," and not depth:
                items.append(word[last:i])
                last = i + 1
            elif c == "}":
                body = word[start + 1 : i]
                if items:
                    return start, i + 1, [*items, word[last:i]]
                seq = _SEQ.fullmatch(body)
                if seq is None:
                    break
                return start, i + 1, _sequence(seq)
    return None


def _sequence(m: re.Match[str]) -> list[str]:
    if m.group(4):
        a, b = ord(m.group(4)), ord(m.group(5))
        step = 1 if b >= a else -1
        return [chr(c) for c in range(a, b + step, step)][: MAX_EXPANSIONS + 1]
    a, b = int(m.group(1)), int(m.group(2))
    inc = abs(int(m.group(3) or 1)) or 1
    step = inc if b >= a else -inc
    return [str(n) for n in islice(range(a, b + (1 if step > 0 else -1), step), MAX_EXPANSIONS + 1)]
