"""A response cache for `GET /v1/runs` and `/v1/sessions` that is never stale by more than a stat.

Listing reads and validates every meta.json (~1 ms for 50 runs); the dashboard and agentctl poll
it. The cache key is a fingerprint of the data dir taken with plain `os.scandir`/`os.stat`
(~0.1 ms): every stream's meta.json (mtime, size) and, for streams written by this process,
the live writer's last seq — the two places a listing's content comes from. Anything unusual
(an unreadable dir) just means no caching; `MAX_AGE` bounds staleness even if
the store's layout ever changes under us.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from harness_ls.core.live import live_seq

MAX_AGE = 2.0  # seconds; a safety net, not the invalidation mechanism
_DIRS = {"run": "runs", "session": "sessions"}


def fingerprint(root: str, kind: str) -> tuple | None:
    base = os.path.join(root, _DIRS[kind])
    items = []
    try:
        with os.scandir(base) as entries:
            for e in entries:
                if e.name.startswith(".") or not e.is_dir():
                    continue
                try:
                    st = os.stat(e.path + "/meta.json")
                    sig: tuple = (st.st_mtime_ns, st.st_size)
                except OSError:
                    sig = ()
                items.append((e.name, sig, live_seq(e.path + "/events.ndjson")))
    except FileNotFoundError:
        return ()
    except OSError:
        return None
    items.sort()
    return tuple(items)


class ListCache:
    """(kind, status, limit) → (fingerprint, time, rendered JSON bytes)."""

    def __init__(self, root: str, max_entries: int = 64) -> None:
        self.root = root
        self.max_entries = max_entries
        self._entries: dict[tuple, tuple[tuple, float, bytes]] = {}
        self.hits = 0
        self.misses = 0

    def get(
        self,
        kind: str,
        status: str | None,
        limit: int,
        render: Callable[[], bytes],
        overlay: tuple = (),
    ) -> bytes:
        """`overlay` is in-memory state the listing also shows (it is part of the key)."""
        fp = fingerprint(self.root, kind)
        if fp is not None:
            fp = (fp, overlay)
        key = (kind, status, limit)
        now = time.monotonic()
        if fp is not None:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == fp and now - hit[1] < MAX_AGE:
                self.hits += 1
                return hit[2]
        self.misses += 1
        body = render()
        if fp is not None:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (fp, now, body)
        return body


def cache_for(app_state: Any, root: str) -> ListCache:
    cache = getattr(app_state, "list_cache", None)
    if cache is None or cache.root != root:
        cache = ListCache(root)
        app_state.list_cache = cache
    return cache
