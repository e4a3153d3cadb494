"""Sortable unique ids (ULID-shaped) for approvals, plan steps and tool calls.

Approval ids must be globally unique across runs and sessions because any surface answers them by
id alone; a ULID (48-bit ms time + 80 random bits, Crockford base32) gives that and sorts by time.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    """A 26-character ULID string."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """`<prefix>_<ulid>`, e.g. `st_01J...` for run steps, `call_01J...` for session tool calls."""
    return f"{prefix}_{ulid()}"
