"""Process-wide observers of every event made live in this process (hooks, ...).

An observer is called synchronously, possibly from a store thread, with the stream's log path
and the event; it must be quick and thread-safe (hand the work to its own loop). An observer
that raises is ignored: it can never break the writer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from harness_ls.store.events import Event

Observer = Callable[[str, Event], None]
_observers: list[Observer] = []
_lock = threading.Lock()
log = logging.getLogger("harness_ls.store")


def add_observer(fn: Observer) -> None:
    with _lock:
        _observers.append(fn)


def remove_observer(fn: Observer) -> None:
    with _lock:
        if fn in _observers:
            _observers.remove(fn)


def notify(key: str, ev: Event) -> None:
    if not _observers:
        return
    with _lock:
        current = list(_observers)
    for fn in current:
        try:
            fn(key, ev)
        except Exception:  # noqa: BLE001 - an observer never breaks the writer
            log.exception("event observer failed")
