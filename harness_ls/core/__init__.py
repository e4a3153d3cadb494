"""The Harness facade: the one object every host (LSP, HTTP daemon, CLI) talks to.

Hosts are thin translators over this class; it owns the run store, the approval broker and the
asyncio tasks of active runs and sessions. Heavy modules (agent runtime, models, tools, git) are
imported lazily so that `import harness_ls.core` stays cheap for the language server's cold start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness_ls.common import spec_target, write_atomic
from harness_ls.config import data_dir as resolve_data_dir
from harness_ls.core.inputs import (
    check_workspace,
    ensure_valid_spec,
    read_spec,
    resolved,
)
from harness_ls.errors import Conflict, HarnessError, InvalidInput

if TYPE_CHECKING:
    from harness_ls.agent.approvals import ApprovalBroker, ApprovalChange, PendingApproval
    from harness_ls.agent.options import RunOptions
    from harness_ls.agent.sessions import SessionManager
    from harness_ls.store import RunMeta, RunStore

TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled", "interrupted"})


class Harness:
    """One per process: runs, sessions, approvals and specs over one data dir."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        model: str | None = None,
        policy_mode: str | None = None,
        executor: str | None = None,
        ray_address: str | None = None,
    ) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        self.model = model
        self.policy_mode = policy_mode
        # Where runs execute: None/"local" in this process; "ray" on a cluster (executor/),
        # also chosen by `[executor]` in config.toml. Resolved in `start()`.
        self.executor_kind = executor
        self.ray_address = ray_address
        self.executor: Any = None
        self._attempts: Any = None
        self._store: RunStore | None = None
        self._broker: ApprovalBroker | None = None
        self._sessions: SessionManager | None = None
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._hooks: Any = None  # agent.hooks.HookRunner when the user configured hooks
        self._mcp: Any = None  # tools.mcp.McpHub, created on first use when servers are declared
        # Set by harness-ls: `await hook(path, text) -> bool` applies a spec-mode rewrite to the
        # editor's open buffer (True) instead of replacing the file on disk.
        self.spec_write_hook: Any = None
        self._options: RunOptions | None = None
        # Runs that died because their log could not be written (full disk): run id -> reason.
        self.unrecorded_failures: dict[str, str] = {}

    # ---- shared parts (lazy) --------------------------------------------------------------
    @property
    def options(self) -> RunOptions:
        """Run/session tuning (agent/options.py) for hosts and tests; lazy, as pydantic is."""
        if self._options is None:
            from harness_ls.agent.options import RunOptions

            self._options = RunOptions()
        return self._options

    @property
    def store(self) -> RunStore:
        if self._store is None:
            from harness_ls.store import RunStore

            self._store = RunStore(self.data_dir)
        return self._store

    @property
    def broker(self) -> ApprovalBroker:
        if self._broker is None:
            from harness_ls.agent.approvals import ApprovalBroker

            self._broker = ApprovalBroker()
        return self._broker

    @property
    def sessions(self) -> SessionManager:
        if self._sessions is None:
            from harness_ls.agent.sessions import SessionManager

            self._sessions = SessionManager(self)
        return self._sessions

    @property
    def mcp(self) -> Any:
        """The MCP servers' hub (tools/mcp.py), or None when the user config declares none."""
        if self._mcp is None:
            path = self.data_dir / "config.toml"
            try:
                declared = "[mcp" in path.read_text(encoding="utf-8")
            except OSError:
                declared = False
            if not declared:
                return None
            from harness_ls.tools.mcp import McpHub

            self._mcp = McpHub(self.data_dir)
        return self._mcp

    def mcp_for(self, workspace: Path) -> Any:
        """The hub for a run in `workspace`: also when only the workspace's `.harness/mcp.toml`
        declares servers (whether they start is decided by its trust, in tools/mcp_config.py);
        a user who trusted that file must not need an `[mcp]` of their own."""
        hub = self.mcp
        if hub is None and (Path(workspace) / ".harness" / "mcp.toml").is_file():
            from harness_ls.tools.mcp import McpHub

            hub = self._mcp = McpHub(self.data_dir)
        return hub

    async def start(self) -> list[str]:
        """Mark runs/sessions left in flight by a previous process as interrupted, and start
        the user's hooks (a bad hooks config is logged, never fatal)."""
        await self._start_executor()
        recovered = await asyncio.to_thread(self.store.recover_interrupted)
        await self._start_hooks()
        return recovered

    async def _start_executor(self) -> None:
        """Connect to the Ray cluster when asked to, and follow runs that outlived us there."""
        from harness_ls.executor.config import load_settings

        settings = load_settings(self.data_dir, kind=self.executor_kind, address=self.ray_address)
        if settings.kind != "ray":
            return
        from harness_ls.executor.remote import RayExecutor

        self.executor = RayExecutor(self, settings)
        for run_id, task in (await self.executor.reattach()).items():
            self._track(run_id, task)

    def _track(self, run_id: str, task: asyncio.Task[None]) -> None:
        self._runs[run_id] = task
        task.add_done_callback(lambda _t, rid=run_id: self._runs.pop(rid, None))

    async def _start_hooks(self) -> None:
        """Watch events for the user's hooks; the config is re-read when it changes, so hooks
        added while the host runs fire (and a broken config is said, not fatal)."""
        from harness_ls.agent.hooks import HookRunner
        from harness_ls.store.observe import add_observer

        self._hooks = HookRunner(self)
        add_observer(self._hooks.observe)

    def loaded_integrations(self) -> dict[str, Any]:
        """What this host has loaded from the user config right now — hooks (re-read when the
        file changed) and MCP servers (read per run) — for `agentctl doctor` over the API."""
        from harness_ls.tools.mcp import load_config

        path = self.data_dir / "config.toml"
        out: dict[str, Any] = {"config": str(path), "hooks": [], "hooks_error": None}
        if self._hooks is not None:
            out["hooks"] = [
                {"on": sorted(h.on), "command": h.label()} for h in self._hooks.refresh()
            ]
            out["hooks_error"] = self._hooks.error
        else:
            out["hooks_error"] = "hooks are not watched by this host (not started)"
        try:
            out["mcp"] = sorted(load_config(self.data_dir).servers)
            out["mcp_error"] = None
        except HarnessError as exc:
            out["mcp"], out["mcp_error"] = [], exc.one_line()
        return out

    async def close(self) -> None:
        """Stop active runs as interrupted (resumable), then release the store."""
        tasks = list(self._runs.values())
        for task in tasks:
            task.cancel("shutdown")
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.executor is not None:
            await self.executor.close()
        if self._sessions is not None:
            await self._sessions.close()
        if self._mcp is not None:
            await self._mcp.close()
        if self._hooks is not None:
            from harness_ls.store.observe import remove_observer

            remove_observer(self._hooks.observe)
            await self._hooks.close()

    # ---- runs -----------------------------------------------------------------------------
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

    # ---- approvals ------------------------------------------------------------------------
    def pending_approvals(self) -> list[PendingApproval]:
        return self.broker.pending()

    async def answer_approval(
        self,
        approval_id: str,
        decision: Literal["approve", "deny"],
        surface: str,
        note: str | None = None,
        *,
        scope: str = "once",
    ) -> PendingApproval:
        """First answer wins; Conflict("already answered (by dashboard, approve)") after that."""
        return self.broker.answer(approval_id, decision, surface, note, scope=scope)

    def subscribe_approvals(self) -> AsyncIterator[ApprovalChange]:
        return self.broker.subscribe()

    # ---- sessions (issue 10) --------------------------------------------------------------
    async def create_session(self, workspace: str, **kwargs: Any) -> Any:
        return await self.sessions.create(workspace, **kwargs)

    async def post_message(self, session_id: str, text: str, **kwargs: Any) -> Any:
        return await self.sessions.post_message(session_id, text, **kwargs)

    def get_session(self, session_id: str) -> Any:
        return self.store.get("session", session_id)

    def list_sessions(self, status: str | None = None, limit: int | None = None) -> list[Any]:
        return self.store.list("session", status=status, limit=limit)

    async def wait_session(self, session_id: str) -> Any:
        """Until the session's queued turns are done; returns its meta."""
        await self.sessions.wait_idle(session_id)
        return self.get_session(session_id)

    async def close_session(self, session_id: str, reason: str | None = None) -> Any:
        return await self.sessions.close_session(session_id, reason)

    async def cancel_turn(self, session_id: str) -> Any:
        return await self.sessions.cancel_turn(session_id)

    async def add_attachment(self, session_id: str, name: str, data: bytes, **kwargs: Any) -> Any:
        return await self.sessions.add_attachment(session_id, name, data, **kwargs)

    # ---- specs ----------------------------------------------------------------------------
    def new_spec(self, workspace: str, name: str) -> Path:
        """Write `specs/<name>/spec.md` from the template; refuses to overwrite."""
        from harness_ls.spec import render_template

        ws = Path(workspace).expanduser().resolve()
        if not ws.is_dir():
            raise InvalidInput(f"workspace {workspace} is not a directory")
        target = spec_target(ws, name)
        if target.exists():
            raise Conflict(
                f"{target.relative_to(ws)} already exists",
                hint="pick another name or edit the existing spec",
            )
        text = render_template(name)
        write_atomic(target, text, root=ws)
        return target

    async def spec_from_prompt(
        self,
        workspace: str,
        name: str,
        prompt: str,
        *,
        overwrite: bool = False,
        model: str | None = None,
    ) -> Any:
        from harness_ls.agent.specgen import spec_from_prompt

        return await spec_from_prompt(
            self, workspace, name, prompt, overwrite=overwrite, model=model or self.model
        )
