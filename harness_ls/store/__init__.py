"""Runstore: append-only NDJSON event logs per run and session, with live subscriptions.

`from harness_ls.store import RunStore, EventStream, Event` — see docs/events.md.
"""

from __future__ import annotations

from harness_ls.store.events import (
    CHATTY_EVENTS,
    DURABLE_EVENTS,
    EVENT_TYPES,
    TERMINAL_RUN_EVENTS,
    Event,
    EventType,
    event_type,
)
from harness_ls.store.ids import check_id, new_id
from harness_ls.store.live import Subscription
from harness_ls.store.meta import RunMeta, SessionMeta
from harness_ls.store.runstore import RunStore
from harness_ls.store.stream import EventStream

__all__ = [
    "CHATTY_EVENTS",
    "DURABLE_EVENTS",
    "EVENT_TYPES",
    "TERMINAL_RUN_EVENTS",
    "Event",
    "EventStream",
    "EventType",
    "RunMeta",
    "RunStore",
    "SessionMeta",
    "Subscription",
    "check_id",
    "event_type",
    "new_id",
]
