"""What drives a run from agentd holds, whether the run executes here (agent/run.py RunEngine)
or on a worker (executor/control.py RemoteRun): its host, its id and workspace, and its stream,
opened with the writer lock, then ended with a terminal event. One class, so the two drivers
open and end a run's log the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.agent.replay import close_open


class RunHandle:
    """A run's host, id, workspace and (once `open_stream` ran) its event stream."""

    def __init__(self, harness: Any, run_id: str, workspace: Path) -> None:
        self.harness = harness
        self.run_id = run_id
        self.workspace = workspace
        self.stream: Any = None

    def open_stream(self) -> Any:
        """Take the writer lock on the run's stream (a second writer is refused, loudly)."""
        self.stream = self.harness.store.stream("run", self.run_id)
        return self.stream

    async def end_with(self, type: str, data: dict[str, Any], reason: str) -> None:
        """Close what the run left open (calls, approvals, steps) with `reason`, then append
        the terminal event `type`."""
        await close_open(self.stream, reason)
        await self.stream.append(type, data)
