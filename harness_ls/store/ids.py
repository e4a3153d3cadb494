"""Time-sortable ids (ULID-like) that are safe as path parts, and the check that keeps bad ids out.

An id is `<prefix>_<ULID>`: 10 Crockford base32 chars of milliseconds then 16 of randomness, so
ids sort by creation time as plain strings and directory listings come out in time order. Within
one millisecond the random part increments, so ids from one process are strictly increasing.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from datetime import UTC, datetime

from harness_ls.errors import InvalidInput

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_CROCKFORD)}
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> 2 chars

_lock = threading.Lock()
_last_ms = 0
_last_rand = 0
_last_prefix = ""
_RAND_MAX = (1 << 80) - 1


def _reset_after_fork() -> None:
    global _last_ms, _last_rand
    _last_ms = 0
    _last_rand = 0


os.register_at_fork(after_in_child=_reset_after_fork)


def _encode(n: int, chars: int) -> str:
    """Crockford base32 of `n` in exactly `chars` characters (chars even)."""
    out = []
    for shift in range(10 * (chars // 2 - 1), -1, -10):
        out.append(_PAIRS[(n >> shift) & 0x3FF])
    return "".join(out)


def ulid(ms: int | None = None) -> str:
    """A 26-char ULID (10 chars of milliseconds, 16 random); monotonic within this process."""
    global _last_ms, _last_rand, _last_prefix
    if ms is None:
        ms = time.time_ns() // 1_000_000
    with _lock:
        if ms <= _last_ms:
            ms = _last_ms
            rand = _last_rand + 1
            if rand > _RAND_MAX:  # 2^80 ids in one ms: borrow the next millisecond
                ms += 1
                rand = random.getrandbits(79)
        else:
            rand = random.getrandbits(79)  # top bit clear leaves room to increment
        if ms != _last_ms or not _last_prefix:
            _last_prefix = _encode(ms, 10)
        _last_ms, _last_rand = ms, rand
        prefix = _last_prefix
    return prefix + _encode(rand, 16)


def new_id(prefix: str) -> str:
    """`<prefix>_<ulid>`, e.g. `run_01JD…`."""
    return f"{prefix}_{ulid()}"


def id_time(id_: str) -> datetime | None:
    """The creation time encoded in an id made by `new_id`, or None for foreign ids."""
    tail = id_.rsplit("_", 1)[-1]
    if len(tail) != 26 or any(c not in _DECODE for c in tail[:10]):
        return None
    ms = 0
    for c in tail[:10]:
        ms = ms * 32 + _DECODE[c]
    return datetime.fromtimestamp(ms / 1000, UTC)


_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


def check_id(value: object, what: str = "id") -> str:
    """Return `value` if it is safe as a single path part; InvalidInput naming it otherwise.

    Rejects `/`, `\\`, `..`, NUL, whitespace, empty and over-long ids, so an id taken from a URL or
    a CLI argument can never escape the data dir.
    """
    if not isinstance(value, str) or not _SAFE_ID.fullmatch(value) or ".." in value:
        shown = repr(value)[:80]
        raise InvalidInput(
            f"invalid {what} {shown}",
            hint="ids look like run_01JD3Q9V6K2M8T4X0Y5Z7A1B2C (letters, digits, _ . -; no '/', '..' or NUL)",
        )
    return value
