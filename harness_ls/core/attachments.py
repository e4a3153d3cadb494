"""Session attachment limits for hosts: one upload limit for the API, the store, CLI messages
and docs (agent/attachments.py owns it; hosts read it here, past the core)."""

from __future__ import annotations

from harness_ls.agent.attachments import MAX_BYTES

MAX_UPLOAD_BYTES: int = MAX_BYTES

__all__ = ["MAX_UPLOAD_BYTES"]
