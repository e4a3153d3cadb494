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
from harness_ls.core.runs import TERMINAL_RUN_STATUSES as TERMINAL_RUN_STATUSES
from harness_ls.core.runs import RunControl
from harness_ls.errors import Conflict, HarnessError, InvalidInput

if TYPE_CHECKING:
    from harness_ls.agent.approvals import ApprovalBroker, ApprovalChange, PendingApproval
    from harness_ls.agent.options import RunOptions
    from harness_ls.agent.sessions import SessionManager
    from harness_ls.store import RunStore


class Harness(RunControl):
    """One per process: runs, sessions, approvals and specs over one data dir.

    The run verbs (start, wait, cancel, list, attempts) are inherited from core/runs.py.
    """

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
