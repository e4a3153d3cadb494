"""Words of a task matched against files: term splitting and a small Okapi BM25.

Used twice: to seed the ranking from the task's plain words (against each file's path and
definition names), and, over whole file contents, as the baseline the recall benchmark
compares the ranked map with.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

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
    return [w for w in map(_term, _WORD_RE.findall(text)) if w]


@lru_cache(maxsize=1 << 16)
def _term(raw: str) -> str:
    """One word part as a search term ("" when dropped): the same parts recur across a repo's
    paths and names, so each is normalised once (term splitting was a third of the graph build)."""
    w = raw.lower()
    if len(w) < 2 or w in STOP_WORDS:
        return ""
    if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


@lru_cache(maxsize=1 << 17)
def ident_terms(ident: str) -> tuple[str, ...]:
    """Search terms of one identifier: the same names recur in most files of a repo, and
    splitting each again cost a quarter of a cold build."""
    return tuple(terms(ident))


class BM25:
    """Okapi BM25 over documents given as term lists (k1=1.2, b=0.75), with postings so a
    query only touches the documents that contain its terms."""

    def __init__(
        self, docs: Iterable[list[str] | dict[str, int]], *, k1: float = 1.2, b: float = 0.75
    ) -> None:
        """`docs`: each a list of terms, or already counted (term -> how often)."""
        self.k1, self.b = k1, b
        postings: dict[str, list[tuple[int, int]]] = {}
        self.postings: Mapping[str, list[tuple[int, int]]] = postings
        self.lens: list[int] = []
        for i, doc in enumerate(docs):
            if isinstance(doc, dict):
                tf = doc
                self.lens.append(sum(doc.values()))
            else:
                tf = Counter(doc)
                self.lens.append(len(doc))
            for term, f in tf.items():
                bucket = postings.get(term)
                if bucket is None:
                    postings[term] = [(i, f)]
                else:
                    bucket.append((i, f))
        n = len(self.lens)
        self.avg = (sum(self.lens) / n) if n else 1.0
        avg = self.avg or 1.0  # each document's length normalisation, once (not per posting)
        self.norms = [k1 * (1 - b + b * length / avg) for length in self.lens]
        self.idf: Mapping[str, float] = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()
        }

    def ceiling(self, query: list[str], weights: dict[str, float] | None = None) -> float:
        """The most any document could score for the query (every known term, tf -> infinity):
        a fixed scale, so a match on one common word stays small however the others score."""
        w = weights or {}
        return sum(self.idf.get(t, 0.0) * w.get(t, 1.0) for t in dict.fromkeys(query)) * (
            self.k1 + 1
        )

    def scores(self, query: list[str], weights: dict[str, float] | None = None) -> list[float]:
        """Score per document; `weights` scales each query term (default 1)."""
        out = [0.0] * len(self.lens)
        k = self.k1 + 1
        norms = self.norms
        w = weights or {}
        for t in dict.fromkeys(query):
            idf = self.idf.get(t)
            if idf is None:
                continue
            idf *= w.get(t, 1.0)
            for i, f in self.postings[t]:
                out[i] += idf * f * k / (f + norms[i])
        return out
