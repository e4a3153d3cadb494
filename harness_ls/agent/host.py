"""What the agent runtime needs from the object that hosts it (core.Harness implements it).

agent/ sits below core/: run engines and session managers get their host as this small typed
Protocol instead of importing core.Harness, so the dependency goes one way (tests/test_layers.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from harness_ls.agent.approvals import ApprovalBroker
    from harness_ls.agent.options import RunOptions
    from harness_ls.store import RunStore


class AgentHost(Protocol):
    """The parts of the harness a run or a session uses: its store, broker and settings."""

    data_dir: Path
    model: str | None
    policy_mode: str | None
    # Runs that died because their log could not be written: run id -> reason.
    unrecorded_failures: dict[str, str]
    # `await hook(path, text) -> bool`: apply a spec rewrite to an open editor buffer, or None.
    spec_write_hook: Any

    @property
    def options(self) -> RunOptions:
        """Run/session tuning (max_turns, verify_attempts, loop_limit, ...; agent/options.py)."""
        ...

    @property
    def store(self) -> RunStore: ...

    @property
    def broker(self) -> ApprovalBroker: ...
