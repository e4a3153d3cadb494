"""The harness-ls language server: a small core that registers one feature module each.

Handlers are thin: they turn LSP params into calls on `harness_ls.spec` (pure) and convert the
answers back. Run/approval features (which need the agent core) load lazily so a plain spec
linting session starts fast.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from harness_ls import __version__
from harness_ls.lsp.documents import SpecDocuments, SpecState, uri_key
from harness_ls.lsp.parts import Parts
from harness_ls.lsp.settings import Settings, parse_settings

log = logging.getLogger("harness_ls.lsp")


# (server, uri) -> extra diagnostics published with the lint diagnostics (push clients).
DiagnosticProvider = Callable[["HarnessLanguageServer", str], list[t.Diagnostic]]
# (server, params) -> extra code actions offered with the spec quick fixes.
CodeActionProvider = Callable[["HarnessLanguageServer", t.CodeActionParams], list[t.CodeAction]]

KEYSTROKES = (t.DidChangeTextDocumentNotification, t.DidOpenTextDocumentNotification)


class HarnessProtocol(LanguageServerProtocol):
    """Remembers the workDoneToken of the executeCommand being dispatched: pygls hands commands
    only their arguments, and a run's progress should use the client's token when it sent one."""

    last_work_done_token: str | int | None = None

    def handle_message(self, message: Any) -> None:
        """pygls' dispatch, less its runtime-checked Protocol isinstance calls (~40 µs a
        message) for the keystroke notifications, whose type is known."""
        if type(message) in KEYSTROKES and message.jsonrpc == "2.0" and not self._shutdown:
            contextvars.copy_context().run(
                self._handle_notification, message.method, message.params
            )
            return
        super().handle_message(message)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Keystroke messages structured by hand (lsp/wire.py), the rest by pygls."""
        if "jsonrpc" in data and "method" in data:
            from harness_ls.lsp.wire import structure

            fast = structure(data)
            if fast is not None:
                return fast
        return super().structure_message(data)

    @lsp_method(t.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: t.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, Any]:
        """pygls' didChange with the edit applied by lsp/sync.py (C-speed offsets, LSP lines)."""
        from harness_ls.lsp.sync import apply_change

        uri = params.text_document.uri
        docs = self.workspace.text_documents
        doc = docs.get(uri) or docs.get(unquote(uri))
        if doc is None:  # never opened: pygls' own path (it logs and ignores)
            return (yield from super().lsp_text_document__did_change(params))
        enc = self.workspace.position_encoding
        enc = str(getattr(enc, "value", enc) or "utf-16")
        for change in params.content_changes:
            doc._source = apply_change(doc.source, change, enc)
        doc.version = params.text_document.version
        if (handler := self.fm.features.get(t.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(t.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: t.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        self.last_work_done_token = params.work_done_token
        return (yield from super().lsp_workspace__execute_command(params))


class HarnessLanguageServer(LanguageServer):
    """pygls server plus the state every feature shares."""

    def __init__(self) -> None:
        super().__init__("harness-ls", __version__, protocol_cls=HarnessProtocol)
        self.settings = Settings()
        self.specs = SpecDocuments(globs=list(self.settings.spec_globs))
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.parts = Parts()  # per-feature state, keyed by class (e.g. the editor runtime)
        # What optional features add to the lint diagnostics / quick fixes (runs.register adds
        # the approval ones): typed lists, so the wiring is explicit.
        self.diagnostic_providers: list[DiagnosticProvider] = []
        self.code_action_providers: list[CodeActionProvider] = []
        self.initialized_hooks: list[Any] = []  # async callables run after `initialized`
        # callables run after every settings change (runs.register: the Harness follows them)
        self.settings_hooks: list[Callable[[HarnessLanguageServer], None]] = []
        self.shutdown_hooks: list[Any] = []

    # -- helpers used by features -------------------------------------------------------
    @property
    def uses_pull_diagnostics(self) -> bool:
        td = self.client_capabilities.text_document if self.client_capabilities else None
        return td is not None and td.diagnostic is not None

    def log_info(self, message: str, kind: t.MessageType = t.MessageType.Info) -> None:
        try:  # in wire form: no cattrs code generation before the first diagnostics
            params = {"type": int(kind), "message": message}
            self.protocol._send_data(
                {"jsonrpc": "2.0", "method": t.WINDOW_LOG_MESSAGE, "params": params}
            )
        except Exception:  # before initialize or after the client went away
            log.info(message)

    def show_message(self, message: str, kind: t.MessageType = t.MessageType.Warning) -> None:
        self.window_show_message(t.ShowMessageParams(type=kind, message=message))

    def open_uri(self, uri: str) -> str | None:
        """The client's own uri for the open document `uri` names (a uri the server built with
        Path.as_uri() may be escaped differently), or None when that file is not open."""
        docs = self.workspace.text_documents
        if uri in docs:
            return uri
        key = uri_key(uri)
        return next((u for u in docs if uri_key(u) == key), None)

    def spec_state(self, uri: str) -> SpecState | None:
        """The cached parse + problems of an open spec, or None for other documents."""
        if not self.specs.is_spec(uri):
            return None
        doc = self.workspace.get_text_document(uri)
        return self.specs.get(uri, doc.version, doc.source)

    def apply_settings(self, raw: Any) -> None:
        settings, error = parse_settings(raw, self.settings)
        if error:
            self.show_message(error)
        self.settings = settings
        self.specs.globs = list(settings.spec_globs)
        self.specs.invalidate_all()
        for hook in self.settings_hooks:
            hook(self)

    def set_roots(self, params: t.InitializeParams) -> None:
        roots: list[Path] = []
        for folder in params.workspace_folders or []:
            fs = to_fs_path(folder.uri)
            if fs:
                roots.append(Path(fs))
        if not roots and params.root_uri:
            fs = to_fs_path(params.root_uri)
            if fs:
                roots.append(Path(fs))
        elif not roots and params.root_path:
            roots.append(Path(params.root_path))
        self.specs.roots = roots

    def change_roots(self, event: t.WorkspaceFoldersChangeEvent) -> None:
        """A folder added to (or removed from) the workspace after start: a spec in it runs
        there and follows its `.harness/spec.schema.json`, as one in a folder from the start."""
        gone = {Path(fs) for f in event.removed or [] if (fs := to_fs_path(f.uri))}
        roots = [root for root in self.specs.roots if root not in gone]
        for folder in event.added or []:
            fs = to_fs_path(folder.uri)
            if fs and Path(fs) not in roots:
                roots.append(Path(fs))
        self.specs.roots = roots


async def pull_configuration(ls: HarnessLanguageServer) -> None:
    """Read the `harness` section with workspace/configuration when the client supports it."""
    ws = ls.client_capabilities.workspace if ls.client_capabilities else None
    if not (ws and ws.configuration):
        return
    try:
        result = await asyncio.wait_for(
            ls.workspace_configuration_async(
                t.ConfigurationParams(items=[t.ConfigurationItem(section="harness")])
            ),
            timeout=5,
        )
    except Exception as exc:  # a client that cannot answer keeps the settings it pushed
        log.info("workspace/configuration failed: %s", exc)
        return
    if result and isinstance(result[0], dict) and result[0]:
        ls.apply_settings(result[0])


def create_server() -> HarnessLanguageServer:
    # runs: commands, progress, lenses, approvals; it loads the agent core only when first used
    from harness_ls.lsp.features import (
        code_actions,
        completion,
        diagnostics,
        folding,
        hover,
        runs,
        symbols,
    )

    server = HarnessLanguageServer()

    @server.feature(t.INITIALIZE)
    def on_initialize(ls: HarnessLanguageServer, params: t.InitializeParams) -> None:
        ls.set_roots(params)
        from harness_ls.config import load_env

        for root in ls.specs.roots[:1]:  # the workspace's .env.local, as agentd reads its cwd's
            load_env(root)
        if params.initialization_options is not None:
            ls.apply_settings(params.initialization_options)

    @server.feature(t.INITIALIZED)
    async def on_initialized(ls: HarnessLanguageServer, params: t.InitializedParams) -> None:
        mode = "pull" if ls.uses_pull_diagnostics else "push"
        enc = ls.workspace.position_encoding
        enc = getattr(enc, "value", enc)
        ls.log_info(f"harness-ls {__version__} ready ({mode} diagnostics, {enc} positions)")
        await pull_configuration(ls)
        for hook in ls.initialized_hooks:
            await hook(ls)

    @server.feature(t.SHUTDOWN)
    async def on_shutdown(ls: HarnessLanguageServer, *args: Any) -> None:
        for hook in ls.shutdown_hooks:
            try:
                await hook(ls)
            except Exception:  # shutting down: report, never hang the client
                log.exception("shutdown hook failed")

    @server.feature(t.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def on_folders(ls: HarnessLanguageServer, params: t.DidChangeWorkspaceFoldersParams) -> None:
        ls.change_roots(params.event)
        diagnostics.refresh_all(ls)

    @server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(
        ls: HarnessLanguageServer, params: t.DidChangeConfigurationParams
    ) -> None:
        pushed = params.settings
        if isinstance(pushed, dict) and pushed:
            ls.apply_settings(pushed)
        else:  # "settings changed, ask me" (VS Code style): pull them
            await pull_configuration(ls)
        diagnostics.refresh_all(ls)

    for feature in (diagnostics, code_actions, completion, symbols, folding, hover, runs):
        feature.register(server)
    return server
