"""Live-log facts for hosts: how far an in-process writer has got, without reading the disk
(the HTTP list cache keys on it)."""

from __future__ import annotations

from harness_ls.store.live import live_hub


def live_seq(events_path: str) -> int:
    """The last sequence number the live hub of this events file has published; -1 when no
    writer in this process holds one."""
    hub = live_hub(events_path)
    return hub.last_seq if hub is not None else -1
