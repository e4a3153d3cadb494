"""A read-only str-keyed mapping stored as marshal blobs, one per bucket of keys.

The saved ranking graph holds a few large name -> files tables (definers, BM25 postings) that
a build only looks up the task's words in. Unpickled as dicts they cost a new process ~50 ms
(tens of thousands of lists); as a LazyMap they unpickle as a few hundred bytes objects, and a
lookup decodes only its own bucket (once). Values and iteration order are the source dict's.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

PER_BUCKET = 32  # keys per bucket on average: a lookup decodes about this many entries


def _slot(key: str, n: int) -> int:
    """Bucket of a key: a stable hash (str hashes differ between processes)."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % n


class LazyMap(Mapping[str, Any]):
    """`dict`'s read side over marshal-able values, decoded bucket by bucket on first use."""

    __slots__ = ("_blobs", "_parts", "_order", "_len")

    def __init__(self, data: Mapping[str, Any]) -> None:
        n = max(1, len(data) // PER_BUCKET)
        buckets: list[dict[str, Any]] = [{} for _ in range(n)]
        for key, value in data.items():
            buckets[_slot(key, n)][key] = value
        self._blobs = [marshal.dumps(b) for b in buckets]
        self._order = marshal.dumps(list(data))
        self._len = len(data)
        self._parts: list[dict[str, Any] | None] = [None] * n

    def _part(self, key: str) -> dict[str, Any]:
        k = _slot(key, len(self._blobs))
        part = self._parts[k]
        if part is None:
            part = self._parts[k] = marshal.loads(self._blobs[k])
        return part

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str):
            raise KeyError(key)
        return self._part(key)[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._part(key).get(key, default) if isinstance(key, str) else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._part(key)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        return iter(marshal.loads(self._order))

    def __getstate__(self) -> tuple[list[bytes], bytes, int]:
        return self._blobs, self._order, self._len

    def __setstate__(self, state: tuple[list[bytes], bytes, int]) -> None:
        self._blobs, self._order, self._len = state
        self._parts = [None] * len(self._blobs)
