"""The agent core as seen from the editor: a lazily created Harness, the in-process HTTP/SSE
sidecar, and what the editor tracks about runs (spec uri, progress token, current step).

Nothing here loads before the first run command or the `initialized` notification, so plain spec
linting keeps its cold start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness_ls.core import Harness
    from harness_ls.lsp.server import HarnessLanguageServer

from harness_ls.lsp.tasks import spawn

log = logging.getLogger("harness_ls.lsp.runtime")


@dataclass
class RunView:
    """What the editor shows about one run."""

    run_id: str
    spec_uri: str
    spec_name: str
    token: str | int | None = None
    state: str = "running"
    step: str = ""  # what happens now ("waiting for approval: …", a step's title)
    message: str = ""  # the whole progress line ("execute: step 1/3 — …")
    percentage: int = 0
    steps_total: int = 0
    steps_done: int = 0
    outcome: str | None = None  # the end message once the run is over
    cancelled_here: bool = False  # this editor asked to cancel it (the end message says who)
    task: asyncio.Task[None] | None = None


@dataclass
class EditorRuntime:
    ls: HarnessLanguageServer
    harness: Harness | None = None
    sidecar: Any = None
    sidecar_error: str | None = None
    _token: str | None = None  # the sidecar's, resolved when it starts listening
    endpoint_path: Path | None = None
    runs: dict[str, RunView] = field(default_factory=dict)
    watcher: asyncio.Task[None] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def ensure_harness(self) -> Harness:
        async with self._lock:
            if self.harness is None:
                loop = asyncio.get_running_loop()
                # import the core off the event loop: keystrokes keep their latency meanwhile
                core = await loop.run_in_executor(None, _import, "harness_ls.core")
                s = self.ls.settings
                self.harness = core.Harness(model=s.model, policy_mode=s.policy_mode)
                self.harness.spec_write_hook = self.apply_spec_rewrite
                await self.harness.start()
                from harness_ls.lsp.features import approvals

                self.watcher = spawn(approvals.watch(self.ls, self.harness), "watch approvals")
            return self.harness

    def follow_settings(self) -> None:
        """The settings changed: runs started from now on use the new policy mode and model
        (the Harness copied them when it was created)."""
        if self.harness is None:
            return  # created later, from the settings in force then
        s = self.ls.settings
        self.harness.policy_mode = s.policy_mode
        self.harness.model = s.model

    async def start_sidecar(self) -> None:
        """Listen for the HTTP/SSE app in-process (a busy port falls back to an ephemeral one);
        the app and the agent core load on the first connection (lsp/sidecar.py)."""
        s = self.ls.settings.sidecar
        if not s.enabled or self.sidecar is not None:
            return
        from harness_ls.auth_token import host_token
        from harness_ls.config import data_dir, ensure_data_dir
        from harness_ls.lsp.sidecar import LazySidecar, SidecarError

        try:
            # auth is always on, and the token exists from start-up (agentctl reads its file)
            token = self.ls.settings.token or host_token(ensure_data_dir(data_dir(None)))[0]
            self._token = token
            self.sidecar = LazySidecar(s.host, s.port, token, self._serve_sidecar)
        except (SidecarError, OSError) as exc:  # a sidecar failure must never take the LSP down
            self.sidecar_error = str(exc)
            self.ls.log_info(f"harness-ls: dashboard sidecar not started: {self.sidecar_error}")
            return
        from harness_ls.endpoints import write_endpoint

        try:
            self.endpoint_path = write_endpoint(data_dir(None), self.sidecar.url, "harness-ls")
        except OSError as exc:
            self.ls.log_info(f"harness-ls: cannot write endpoint file: {exc}")
        note = f" (port {s.port} was busy)" if getattr(self.sidecar, "fell_back", False) else ""
        self.ls.log_info(f"harness-ls dashboard: {self.sidecar.url}/{note}")
        from harness_ls.private import loose_warning

        if (loose := loose_warning(data_dir(None))) is not None:
            self.ls.log_info(f"harness-ls: warning: {loose}")
        # like agentd, mark what a previous process left in flight as interrupted at start-up
        if await asyncio.to_thread(left_in_flight, data_dir(None)):
            await self.ensure_harness()  # Harness.start() does the marking

    async def _serve_sidecar(self, sock: Any) -> Any:
        """Load the agent core and the web app (off the event loop) and serve on `sock`."""
        harness = await self.ensure_harness()
        loop = asyncio.get_running_loop()
        app_mod = await loop.run_in_executor(None, _import, "harness_ls.http.app")
        server = await loop.run_in_executor(None, _import, "harness_ls.http.server")
        app = app_mod.create_app(harness, token=self._token, kind="harness-ls")
        s = self.ls.settings.sidecar
        return await server.start_server(app, s.host, self.sidecar.port, sock=sock)

    async def close(self) -> None:
        from harness_ls.endpoints import remove_endpoint

        remove_endpoint(self.endpoint_path)
        if self.watcher is not None:
            self.watcher.cancel()
        for view in self.runs.values():
            if view.task is not None:
                view.task.cancel()
        if self.sidecar is not None:
            with contextlib.suppress(Exception):
                await self.sidecar.stop(grace=1.0)
        if self.harness is not None:
            with contextlib.suppress(Exception):
                await self.harness.close()

    async def apply_spec_rewrite(self, path: Path, text: str) -> bool | None:
        """A spec-mode session rewrote `path`: when the editor has it open, change the buffer
        with workspace/applyEdit (the user saves) instead of racing the buffer on disk. None when
        it is not open (the caller writes the file), False when the editor refused the edit."""
        from lsprotocol import types as t

        from harness_ls.lsp.positions import encoding_of, to_client_range
        from harness_ls.spec.model import Range
        from harness_ls.spec.parse import split_lines

        uri = self.ls.open_uri(path.as_uri())
        if uri is None:
            return None
        doc = self.ls.workspace.get_text_document(uri)
        lines = split_lines(doc.source)
        whole = to_client_range(
            lines, Range.of(0, 0, len(lines) - 1, len(lines[-1])), encoding_of(self.ls)
        )
        edit = t.WorkspaceEdit(
            document_changes=[
                t.TextDocumentEdit(
                    text_document=t.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=doc.version
                    ),
                    edits=[t.TextEdit(range=whole, new_text=text)],
                )
            ]
        )
        result = await self.ls.workspace_apply_edit_async(
            t.ApplyWorkspaceEditParams(edit=edit, label="harness: spec session update")
        )
        return bool(result and result.applied)

    def run_for_spec(self, uri: str) -> RunView | None:
        for view in self.runs.values():
            if view.spec_uri == uri and view.state in ("running", "waiting_approval", "created"):
                return view
        return None

    def pending_count(self, run_id: str) -> int:
        return len(self.pending_ids(run_id))

    def pending_ids(self, run_id: str) -> list[str]:
        """Ids of the run's pending approvals (harness/runStatus' pendingApprovalIds)."""
        if self.harness is None or self.harness._broker is None:
            return []
        return [a.id for a in self.harness.pending_approvals() if a.run_id == run_id]


# harness_ls.store.meta's RUN_IN_FLIGHT / SESSION_IN_FLIGHT (tests/lsp/test_lazy_sidecar.py checks
# they agree), spelled out so the start-up check needs neither the store nor pydantic.
IN_FLIGHT = {"runs": {"created", "running", "waiting_approval"}, "sessions": {"running"}}


def left_in_flight(root: Path) -> bool:
    """Whether any run or session's meta.json says it is in flight (its host may have died)."""
    import json

    for kind, statuses in IN_FLIGHT.items():
        for meta in (root / kind).glob("*/meta.json"):
            try:
                if json.loads(meta.read_text(encoding="utf-8")).get("status") in statuses:
                    return True
            except (OSError, ValueError, AttributeError):
                continue
    return False


def _import(name: str) -> Any:
    import importlib

    return importlib.import_module(name)


def runtime(ls: HarnessLanguageServer) -> EditorRuntime:
    return ls.parts.get(EditorRuntime, lambda: EditorRuntime(ls))
