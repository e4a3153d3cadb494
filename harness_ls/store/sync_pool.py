"""The store's fsync thread pool and the process hooks around it.

`await append` runs the durability barrier on these threads, so the event loop keeps serving
while the disk syncs. At a normal exit, writers still open write and fsync their batched
(chatty) events; a forked child gets a pool of its own (it inherits none of the threads).
"""

from __future__ import annotations

import atexit
import os
from concurrent.futures import ThreadPoolExecutor

from harness_ls.store.live import _HUBS


def _new_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="harness-store-fsync")


_POOL = _new_pool()


def pool() -> ThreadPoolExecutor:
    return _POOL


def _new_pool_after_fork() -> None:
    global _POOL
    _POOL = _new_pool()


def _flush_at_exit() -> None:
    """Write and fsync batched events of writers still open when the process exits normally."""
    for hub in list(_HUBS.values()):
        writer = hub.writer
        if writer is not None and not getattr(writer, "closed", True):
            try:
                writer.flush_pending_sync()
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


atexit.register(_flush_at_exit)
os.register_at_fork(after_in_child=_new_pool_after_fork)
