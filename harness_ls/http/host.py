"""What the HTTP app needs of the harness it serves: one typed surface instead of `Any` and
`getattr(harness, ...)` probes (issue 33). `harness_ls.core.Harness` satisfies it; a test
checks that, so a verb the routes call cannot vanish from the core unnoticed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable


@runtime_checkable
class HarnessHost(Protocol):
    """The core as the routes see it (runs, attempts, approvals, sessions, specs, doctor)."""

    data_dir: Path
    model: str | None
    unrecorded_failures: dict[str, str]  # runs whose log could not be written: shown as failed

    @property
    def store(self) -> Any: ...

    @property
    def attempts(self) -> Any: ...

    # runs
    async def start_run(
        self,
        workspace: str,
        spec: str,
        *,
        model: str | None = None,
        resume: str | None = None,
        branch: bool = False,
    ) -> Any: ...

    async def cancel_run(self, run_id: str) -> Any: ...

    def get_run(self, run_id: str) -> Any: ...

    def list_runs(self, status: str | None = None, limit: int | None = None) -> list[Any]: ...

    async def start_attempts(
        self, workspace: str, spec: str, count: int, *, models: list[str] | None = None
    ) -> Any: ...

    # approvals
    def pending_approvals(self) -> list[Any]: ...

    async def answer_approval(
        self,
        approval_id: str,
        decision: Literal["approve", "deny"],
        surface: str,
        note: str | None = None,
        *,
        scope: str = "once",
    ) -> Any: ...

    # chat sessions
    async def create_session(self, workspace: str, **kwargs: Any) -> Any: ...

    async def post_message(self, session_id: str, text: str, **kwargs: Any) -> Any: ...

    async def cancel_turn(self, session_id: str) -> Any: ...

    async def add_attachment(
        self, session_id: str, name: str, data: bytes, **kwargs: Any
    ) -> Any: ...

    # specs
    def new_spec(self, workspace: str, name: str) -> Path: ...

    async def spec_from_prompt(
        self,
        workspace: str,
        name: str,
        prompt: str,
        *,
        overwrite: bool = False,
        model: str | None = None,
    ) -> Any: ...

    # doctor
    def loaded_integrations(self) -> dict[str, Any]: ...
