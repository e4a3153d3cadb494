"""Words of a task matched against files: term splitting and a small Okapi BM25.

Used twice: to seed the ranking from the task's plain words (against each file's path and
definition names), and, over whole file contents, as the baseline the recall benchmark
compares the ranked map with.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

_WORD_RE = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|[0-9]+")
STOP_WORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from into onto as is are
    was were be been being it its this that these those there here we you they he she i me my
    our your their not no yes do does did done can could should would will shall may might must
    have has had so such than too very just also only use used using add added adds fix fixed
    fixes make makes made new when where which who what why how all any some more most other
    about after before over under again further once out up down off now get set via per def
    self none true false return py js ts md txt""".split()
)


def terms(text: str) -> list[str]:
    """Lowercased word parts (camelCase and snake_case split), stop words and 1-letter dropped."""
    out = []
    for raw in _WORD_RE.findall(text):
        w = raw.lower()
        if len(w) < 2 or w in STOP_WORDS:
            continue
        if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


class BM25:
    """Okapi BM25 over documents given as term lists (k1=1.2, b=0.75)."""

    def __init__(self, docs: Iterable[list[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tfs: list[Counter[str]] = [Counter(d) for d in docs]
        self.lens = [sum(tf.values()) for tf in self.tfs]
        self.avg = (sum(self.lens) / len(self.lens)) if self.lens else 1.0
        df: Counter[str] = Counter()
        for tf in self.tfs:
            df.update(tf.keys())
        n = len(self.tfs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def scores(self, query: list[str]) -> list[float]:
        q = [t for t in dict.fromkeys(query) if t in self.idf]
        out = []
        for tf, length in zip(self.tfs, self.lens, strict=True):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * length / (self.avg or 1.0))
            for t in q:
                f = tf.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + norm)
            out.append(s)
        return out
