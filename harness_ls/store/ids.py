"""Time-sortable ids (ULID-like) that are safe as path parts, and the check that keeps bad ids out.

An id is `<prefix>_<26 chars>`: 48 bits of milliseconds then 80 random bits, Crockford base32, so
ids sort by creation time as plain strings and directory listings come out in time order. Within
one millisecond the random part increments, so ids from one process are strictly increasing.
"""

from __future__ import annotations

import base64
import os
import random
import re
import threading
import time
from datetime import UTC, datetime

from harness_ls.errors import InvalidInput

_B32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = bytes.maketrans(_B32, _CROCKFORD)
_FROM_CROCKFORD = bytes.maketrans(_CROCKFORD, _B32)

_lock = threading.Lock()
_last_ms = 0
_last_rand = 0
_RAND_MAX = (1 << 80) - 1


def _reset_after_fork() -> None:
    global _last_ms, _last_rand
    _last_ms = 0
    _last_rand = 0


os.register_at_fork(after_in_child=_reset_after_fork)


def ulid() -> str:
    """A 26-char, time-sortable, unique id (monotonic within this process)."""
    global _last_ms, _last_rand
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
        _last_ms, _last_rand = ms, rand
    raw = ((ms << 80) | rand).to_bytes(16, "big")
    return base64.b32encode(raw)[:26].translate(_TO_CROCKFORD).decode("ascii")


def new_id(prefix: str) -> str:
    """`<prefix>_<ulid>`, e.g. `run_01JD…`."""
    return f"{prefix}_{ulid()}"


def id_time(id_: str) -> datetime | None:
    """The creation time encoded in an id made by `new_id`, or None for foreign ids."""
    tail = id_.rsplit("_", 1)[-1]
    if len(tail) != 26:
        return None
    try:
        raw = base64.b32decode(tail.encode("ascii").translate(_FROM_CROCKFORD) + b"======")
    except (ValueError, UnicodeEncodeError):
        return None
    ms = int.from_bytes(raw[:6], "big")
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
