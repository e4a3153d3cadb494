"""The effective tool policy of a workspace, for hosts that show it (`agentctl policy show`).

Lives in the core so hosts reach tools/ through one layer (issue 33).
"""

from __future__ import annotations

from pathlib import Path

from harness_ls.tools import Policy


def effective_policy(workspace: Path, data_dir: Path, mode: str | None) -> Policy:
    """User and (trusted) workspace policy merged; `mode` None: the files' mode, else ask."""
    return Policy.load(workspace, data_dir, mode)
