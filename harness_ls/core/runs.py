"""Runs, as the Harness sees them: start (or resume) one, wait for it, cancel it, list them,
and the parallel attempts of one spec.

The run verbs are most of what a host asks of the core and the only part that juggles the
asyncio tasks of running work, so they live apart from the Harness's wiring (store, broker,
hooks, MCP) in core/__init__.py; `Harness` inherits them from `RunControl`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness_ls.core.inputs import (
    check_workspace,
    ensure_valid_spec,
    read_spec,
    resolved,
)
from harness_ls.errors import Conflict, HarnessError, InvalidInput

if TYPE_CHECKING:
    from harness_ls.agent.approvals import ApprovalBroker
    from harness_ls.agent.options import RunOptions
    from harness_ls.store import RunMeta, RunStore

TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled", "interrupted"})


class RunControl:
    """The run verbs of `harness_ls.core.Harness`, which provides the state typed below."""

    data_dir: Path
    model: str | None
    policy_mode: str | None
    executor: Any
    unrecorded_failures: dict[str, str]
    _attempts: Any
    _runs: dict[str, asyncio.Task[None]]

    if TYPE_CHECKING:

        @property
        def options(self) -> RunOptions: ...
        @property
        def store(self) -> RunStore: ...
        @property
        def broker(self) -> ApprovalBroker: ...

    def _track(self, run_id: str, task: asyncio.Task[None]) -> None:
        self._runs[run_id] = task
        task.add_done_callback(lambda _t, rid=run_id: self._runs.pop(rid, None))

    async def start_run(
        self,
        workspace: str,
        spec: str,
        *,
        model: str | None = None,
        resume: str | None = None,
        branch: bool = False,
        attempt: dict[str, Any] | None = None,
        shipment: Any = None,
    ) -> RunMeta:
        """Validate workspace and spec, create (or reopen) the run, and start it in the background.

        `spec` is a path (relative to the workspace or absolute) or the spec text itself.
        `branch` (Ray executor): the result goes to `harness/<run_id>`, not the work tree.
        """
        from harness_ls.agent.run import RunEngine

        ws = await check_workspace(workspace)
        spec_path, spec_text = read_spec(ws, spec)
        ensure_valid_spec(spec_text, ws, spec_path)
        chosen = model or self.model
        busy = [
            rid
            for rid in self.active_runs()
            if rid != resume and self._workspace_of(rid) == ws and attempt is None
        ]
        if busy:
            raise Conflict(
                f"run {busy[0]} is already running in {ws}",
                hint="wait for it or cancel it first: two runs editing one tree would clash",
            )
        resume_reason: str | None = None
        if resume:
            meta = self.get_run(resume)
            ending = self._runs.get(resume)
            if ending is not None and meta.status in TERMINAL_RUN_STATUSES:
                # its end is recorded, its task is closing the log: let it finish first
                await asyncio.wait({ending}, timeout=10)
            if resume in self._runs and not self._runs[resume].done():
                raise Conflict(f"run {resume} is still running", hint="cancel it first or wait")
            if meta.status == "completed":
                raise Conflict(f"run {resume} already completed; nothing to resume")
            if resolved(meta.workspace) != ws:
                raise InvalidInput(
                    f"run {resume} belongs to workspace {meta.workspace}, not {ws}",
                    hint="resume it with its own workspace",
                )
            chosen = model or meta.model or self.model
            # resumed with the model it started with, for the reason it was chosen then
            resume_reason = None if model else meta.model_reason
        # An unusable explicit model (argument or HARNESS_MODEL) is the caller's error, not a
        # failed run; with nothing configured this resolves to offline and does not raise.
        from harness_ls.models import resolve

        resolve("run", {"tools"}, chosen, workspace=ws, data_dir=self.data_dir)
        if branch and self.executor is None:
            raise InvalidInput(
                "--branch needs the Ray executor", hint="start agentd with --executor ray"
            )
        if not resume:
            extra = {"executor": self.executor.kind, "branch": branch} if self.executor else {}
            extra.update(attempt or {})
            meta = await asyncio.to_thread(
                self.store.create_run,
                workspace=str(ws),
                spec_path=spec_path,
                spec_text=spec_text,
                model=chosen,
                extra=extra or None,
            )
        options = self.options.for_run(self.policy_mode)
        if self.executor is not None:
            task = await self.executor.launch(
                meta.id, ws, spec_path, spec_text, chosen, options.model_dump(),
                resume=bool(resume), branch=branch or bool(meta.extra.get("branch")),
                hold=bool(attempt or meta.extra.get("attempts")), shipment=shipment,
            )  # fmt: skip
            self._track(meta.id, task)
            return self.get_run(meta.id)
        engine = RunEngine(
            harness=self,
            run_id=meta.id,
            workspace=ws,
            spec_path=spec_path,
            spec_text=spec_text,
            model=chosen,
            options=options,
            resume=bool(resume),
            resume_reason=resume_reason,
        )
        await engine.open()
        task = asyncio.create_task(engine.run(), name=f"run:{meta.id}")
        self._runs[meta.id] = task
        task.add_done_callback(lambda _t, rid=meta.id: self._runs.pop(rid, None))
        return self.get_run(meta.id)

    async def wait_run(self, run_id: str, within: float | None = None) -> RunMeta:
        """Wait until the run's task in this process ends; returns the final meta."""
        task = self._runs.get(run_id)
        if task is not None:
            await asyncio.wait_for(asyncio.shield(task), within)
        return self.get_run(run_id)

    async def cancel_run(self, run_id: str) -> RunMeta:
        """Cancel a run wherever it is (planning, a tool call, waiting for an approval)."""
        meta = self.get_run(run_id)
        task = self._runs.get(run_id)
        if task is None or task.done():
            if meta.status in TERMINAL_RUN_STATUSES and meta.status != "interrupted":
                raise Conflict(f"run {run_id} already {meta.status}", hint="nothing to cancel")
            # Not active in this process (e.g. interrupted): record the cancellation.
            stream = self.store.stream("run", run_id)
            try:
                await stream.append("run.cancelled", {"reason": "cancelled while not active"})
            finally:
                await stream.close()
            return self.get_run(run_id)
        self.broker.cancel_for(run_id)
        task.cancel("cancel")
        await asyncio.gather(task, return_exceptions=True)
        return self.get_run(run_id)

    def list_runs(self, status: str | None = None, limit: int | None = None) -> list[RunMeta]:
        if not self.unrecorded_failures:
            return self.store.list("run", status=status, limit=limit)  # type: ignore[return-value]
        runs = [self._overlay(m) for m in self.store.list("run")]
        runs = [m for m in runs if status is None or m.status == status]
        return runs[:limit] if limit else runs

    # ---- parallel attempts (executor/attempts.py) -------------------------------------------
    @property
    def attempts(self) -> Any:
        if self._attempts is None:
            from harness_ls.executor.attempts import AttemptBook

            self._attempts = AttemptBook(self)
        return self._attempts

    async def start_attempts(
        self, workspace: str, spec: str, count: int, *, models: list[str] | None = None
    ) -> Any:
        """N independent runs of one spec, none touching the work tree; apply one later."""
        ws = await check_workspace(workspace)
        spec_path, spec_text = read_spec(ws, spec)
        ensure_valid_spec(spec_text, ws, spec_path)
        return await self.attempts.start(ws, spec_path, count, list(models or []) or [self.model])

    def get_run(self, run_id: str) -> RunMeta:
        return self._overlay(self.store.get("run", run_id))  # type: ignore[arg-type]

    def _overlay(self, meta: RunMeta) -> RunMeta:
        """A run whose log could not be written shows as failed, with the reason, not `running`."""
        reason = self.unrecorded_failures.get(meta.id)
        if reason is None or meta.status in TERMINAL_RUN_STATUSES:
            return meta
        return meta.model_copy(update={"status": "failed", "outcome": reason})

    def _workspace_of(self, run_id: str) -> Path | None:
        try:
            return resolved(self.get_run(run_id).workspace)
        except HarnessError:
            return None

    def active_runs(self) -> list[str]:
        return [rid for rid, t in self._runs.items() if not t.done()]
