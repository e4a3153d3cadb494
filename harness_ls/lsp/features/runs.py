"""Runs from the editor: workspace commands and the sidecar at start-up (a run's `$/progress`
is run_follow.py).

Commands (all listed in `executeCommandProvider`): harness.runSpec(uri), harness.approve(id),
harness.deny(id), harness.approveSimilar(id), harness.showDiff(id), harness.diffContents(id), harness.cancelRun(run_id), harness.openDashboard
([run_id]), harness.newSpec(name[, uri]), harness.showRun(run_id), harness.runAcceptanceTests(uri).
Handlers check their arguments and answer wrong ones with a clear JSON-RPC error.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerError
from pygls.uris import to_fs_path

from harness_ls.lsp.features import approvals, lenses
from harness_ls.lsp.features.approval_wire import headline

if TYPE_CHECKING:
    from harness_ls.lsp.runtime import EditorRuntime
    from harness_ls.lsp.server import HarnessLanguageServer

from harness_ls.lsp.tasks import spawn

log = logging.getLogger("harness_ls.lsp.runs")
SIDECAR_DELAY = 0.2  # seconds after `initialized`
SPEC_INVALID = -32001
RUN_ERROR = -32002


def runtime(ls: HarnessLanguageServer) -> EditorRuntime:
    """The editor's run state (lsp/runtime.py), loaded with the first run command, not at start."""
    from harness_ls.lsp.runtime import runtime as of

    return of(ls)


def spec_name(path: Path) -> str:
    """specs/<name>/spec.md and <dir>/<name>.spec.md are both the spec <name> (as run titles)."""
    if path.name.lower() == "spec.md" and path.parent.name:
        return path.parent.name
    return path.name[: -len(".spec.md")] if path.name.lower().endswith(".spec.md") else path.stem


def _shown(path: Path, ws: Path) -> str:
    return str(path.relative_to(ws)) if path.is_relative_to(ws) else str(path)


def _one_string(args: tuple[Any, ...], name: str, command: str) -> str:
    if len(args) != 1 or not isinstance(args[0], str) or not args[0]:
        raise JsonRpcInvalidParams(
            f"{command} expects one argument: {name} (a non-empty string), got {list(args)!r}"
        )
    return args[0]


def _workspace_for(ls: HarnessLanguageServer, path: Path) -> Path:
    root = ls.specs.root_for(path)
    if root is not None:
        return root
    for parent in path.parents:
        if (parent / ".git").exists():
            return parent
    # shown, as every error in the server range is (the VS Code extension leaves those to us)
    raise _error(
        ls,
        RuntimeError(
            f"{path} is not inside a workspace folder or a git repository: open its project "
            "folder in the editor, or run `git init` there"
        ),
    )


def _error(ls: HarnessLanguageServer, exc: Exception, code: int = RUN_ERROR) -> JsonRpcServerError:
    msg = getattr(exc, "one_line", None)
    text = msg() if callable(msg) else str(exc)
    ls.show_message(text, t.MessageType.Error)
    return JsonRpcServerError(text, code)


async def run_spec(ls: HarnessLanguageServer, *args: Any) -> dict[str, Any]:
    token = getattr(ls.protocol, "last_work_done_token", None)
    uri = _one_string(args, "uri", "harness.runSpec")
    fs = to_fs_path(uri)
    if not fs or not uri.startswith("file:"):
        raise JsonRpcInvalidParams(f"harness.runSpec expects a file:// uri, got {uri!r}")
    path = Path(fs)
    ws = _workspace_for(ls, path)
    state = ls.spec_state(uri) if uri in ls.workspace.text_documents else None
    if state is not None:
        errors = [p for p in state.problems if p.severity.value == "error"]
        if errors:
            listing = "; ".join(
                f"{p.range.start.line + 1}:{p.range.start.character + 1} {p.code} {p.message}"
                for p in errors[:5]
            )
            more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
            msg = f"Not running {path.name}: the spec has {len(errors)} error(s): {listing}{more}"
            ls.show_message(msg, t.MessageType.Error)
            raise JsonRpcServerError(msg, SPEC_INVALID)
        if not path.exists():  # a new buffer: "not found ... agentctl spec new" said the core
            raise _error(
                ls,
                RuntimeError(
                    f"{_shown(path, ws)} is not saved yet: save it, then run it again "
                    "(a run reads the spec from disk)"
                ),
            )
        saved = path.read_text(encoding="utf-8", errors="replace")
        # a byte order mark on disk is no change: editors keep it out of the buffer
        if saved.lstrip("\ufeff") != state.text.lstrip("\ufeff"):
            ls.show_message(
                "harness: running the saved spec; unsaved changes are not included",
                t.MessageType.Warning,
            )
    rt = runtime(ls)
    harness = await rt.ensure_harness()
    try:
        meta = await harness.start_run(
            str(ws),
            str(path.relative_to(ws)) if path.is_relative_to(ws) else str(path),
            model=ls.settings.model,
        )
    except Exception as exc:
        code = (
            SPEC_INVALID
            if getattr(exc, "code", "") == "invalid_input" and getattr(exc, "details", None)
            else RUN_ERROR
        )
        raise _error(ls, exc, code) from None
    from harness_ls.lsp.features.run_follow import follow, progress_token
    from harness_ls.lsp.runtime import RunView

    if token is None:
        token = await progress_token(ls)
    name = spec_name(path)
    view = RunView(run_id=meta.id, spec_uri=uri, spec_name=name, token=token)
    rt.runs[meta.id] = view
    view.task = spawn(follow(ls, view), f"follow {view.run_id}")
    lenses.refresh(ls)
    dashboard = f"{rt.sidecar.url}/#/runs/{meta.id}" if rt.sidecar else None
    return {"runId": meta.id, "status": meta.status, "dashboard": dashboard}


async def answer(
    ls: HarnessLanguageServer,
    decision: str,
    args: tuple[Any, ...],
    command: str,
    scope: str = "once",
) -> dict[str, Any]:
    aid = _one_string(args, "approval id", command)
    harness = await runtime(ls).ensure_harness()
    from harness_ls.errors import HarnessError

    try:
        done = await harness.answer_approval(aid, decision, "editor", None, scope=scope)
    except HarnessError as exc:
        ls.show_message(exc.one_line(), t.MessageType.Warning)
        return {"ok": False, "error": exc.code, "message": exc.one_line()}
    return {"ok": True, "id": done.id, "decision": done.decision}


def follow_settings(ls: HarnessLanguageServer) -> None:
    """A settings change reaches the running Harness (its policy mode and model), so a run
    started afterwards uses what the acceptance-test lens already uses."""
    from harness_ls.lsp.runtime import EditorRuntime

    rt = ls.parts.find(EditorRuntime)
    if rt is not None:
        rt.follow_settings()


async def start_sidecar(ls: HarnessLanguageServer) -> None:
    """Bind the dashboard a moment after `initialized`: an editor opens its first file right
    after it, and those first diagnostics should not wait for the sidecar's ~10 ms of imports."""
    if ls.settings.sidecar.enabled:
        asyncio.get_running_loop().call_later(
            SIDECAR_DELAY, lambda: spawn(runtime(ls).start_sidecar(), "start the dashboard sidecar")
        )


async def close_runtime(ls: HarnessLanguageServer) -> None:
    await runtime(ls).close()


def register(server: HarnessLanguageServer) -> None:
    """Hooks, providers and commands of runs and approvals on the server (a feature's lifecycle:
    the sidecar starts after `initialized`, the runtime closes on shutdown)."""
    # Approvals ride along with the lint results: push clients get their diagnostics in the same
    # publishDiagnostics as the spec problems (issue 20), every client gets Approve / Deny.
    server.diagnostic_providers.append(approvals.approval_diagnostics)
    server.code_action_providers.append(approvals.code_actions)
    server.settings_hooks.append(follow_settings)
    lenses.register(server)

    server.initialized_hooks.append(start_sidecar)
    server.shutdown_hooks.append(close_runtime)

    @server.feature(t.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def on_progress_cancel(
        ls: HarnessLanguageServer, params: t.WorkDoneProgressCancelParams
    ) -> None:
        from harness_ls.lsp.features.run_follow import TERMINAL, cancel_quietly

        for view in runtime(ls).runs.values():
            if view.token == params.token and view.state not in TERMINAL.values():
                spawn(cancel_quietly(ls, view.run_id), f"cancel {view.run_id}")

    # Command handlers carry no annotations: pygls resolves them at call time (the first
    # parameter, `ls`, gets the server), and the server type is only imported for type checking.
    for name, handler in COMMANDS.items():
        server.command(name)(handler)


async def cmd_run_spec(ls, *args):
    return await run_spec(ls, *args)


async def cmd_approve(ls, *args):
    return await answer(ls, "approve", args, "harness.approve")


async def cmd_deny(ls, *args):
    return await answer(ls, "deny", args, "harness.deny")


async def cmd_approve_similar(ls, *args):
    return await answer(ls, "approve", args, "harness.approveSimilar", scope="similar")


async def cmd_show_diff(ls, *args):
    aid = _one_string(args, "approval id", "harness.showDiff")
    harness = await runtime(ls).ensure_harness()
    return {"uri": await approvals.show_diff(ls, harness, aid)}


async def cmd_diff_contents(ls, *args):
    """Both sides of a pending write (for a native diff view); None when only the patch
    can be shown (harness.showDiff)."""
    aid = _one_string(args, "approval id", "harness.diffContents")
    harness = await runtime(ls).ensure_harness()
    approval = next((a for a in harness.pending_approvals() if a.id == aid), None)
    if approval is None:
        raise JsonRpcServerError(f"approval {aid} is no longer pending", RUN_ERROR)
    from harness_ls.lsp.features.approval_diff import diff_sides

    return diff_sides(approval)


async def cmd_cancel(ls, *args):
    run_id = _one_string(args, "run id", "harness.cancelRun")
    rt = runtime(ls)
    harness = await rt.ensure_harness()
    if run_id in rt.runs:
        rt.runs[run_id].cancelled_here = True
    try:
        meta = await harness.cancel_run(run_id)
    except Exception as exc:
        raise _error(ls, exc) from None
    return {"runId": meta.id, "status": meta.status}


async def cmd_dashboard(ls, *args):
    rt = runtime(ls)
    if rt.sidecar is None:
        await rt.start_sidecar()
    if rt.sidecar is None:
        raise _error(
            ls,
            RuntimeError(
                f"the dashboard sidecar is not running: {rt.sidecar_error or 'disabled in settings'}"
            ),
        )
    sidecar = rt.sidecar
    if hasattr(sidecar, "load"):  # lazy (lsp/sidecar.py): a login link needs the real app
        try:
            sidecar = await sidecar.load()
        except Exception as exc:
            msg = f"the dashboard sidecar failed to start: {exc}"
            raise _error(ls, RuntimeError(msg)) from exc
    url = dashboard_link(sidecar, args[0] if args and isinstance(args[0], str) else "")
    try:
        await ls.window_show_document_async(t.ShowDocumentParams(uri=url, external=True))
    except Exception as exc:
        log.info("showDocument failed: %s", exc)
    return {"url": url}


async def cmd_show_run(ls, *args):
    run_id = _one_string(args, "run id", "harness.showRun")
    harness = await runtime(ls).ensure_harness()
    try:
        meta = harness.get_run(run_id)
    except Exception as exc:
        raise _error(ls, exc) from None
    pending = [a for a in harness.pending_approvals() if a.run_id == run_id]
    lines = [f"run {meta.id}: {meta.status}" + (f" — {meta.outcome}" if meta.outcome else "")]
    lines += [f"  pending {a.id}: Approval needed {headline(a)}" for a in pending]
    ls.show_message("\n".join(lines), t.MessageType.Info)
    return {"runId": meta.id, "status": meta.status, "pending": [a.id for a in pending]}


def _new_spec_root(ls: HarnessLanguageServer, args: tuple[Any, ...]) -> Path:
    """Where `harness.newSpec(name[, uri])` writes: the workspace folder holding `uri` (the file
    or folder the user is in: with two folders open, not always the first), else the first."""
    if not ls.specs.roots:
        raise _error(
            ls,
            RuntimeError(
                "open a workspace folder first: new specs go into <workspace>/specs/<name>/spec.md"
            ),
        )
    if len(args) < 2 or args[1] is None:
        return ls.specs.roots[0]
    uri = args[1]
    fs = to_fs_path(uri) if isinstance(uri, str) and uri.startswith("file:") else None
    if len(args) > 2 or not fs:
        raise JsonRpcInvalidParams(
            f"harness.newSpec expects (name[, file:// uri of a file or folder]), got {list(args)!r}"
        )
    root = ls.specs.root_for(Path(fs))
    if root is None:
        raise _error(ls, RuntimeError(f"{fs} is in no workspace folder: open its folder first"))
    return root


async def cmd_new_spec(ls, *args):
    name = _one_string(args[:1], "spec name", "harness.newSpec")
    root = _new_spec_root(ls, args)
    harness = await runtime(ls).ensure_harness()
    try:
        path = harness.new_spec(str(root), name)
    except Exception as exc:
        raise _error(ls, exc) from None
    try:
        await ls.window_show_document_async(
            t.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
        )
    except Exception as exc:
        log.info("showDocument failed: %s", exc)
    return {"path": str(path), "uri": path.as_uri()}


async def cmd_acceptance(ls, *args):
    from harness_ls.lsp.features import acceptance

    uri = _one_string(args, "uri", "harness.runAcceptanceTests")
    fs = to_fs_path(uri)
    if not fs:
        raise JsonRpcInvalidParams(f"harness.runAcceptanceTests expects a file:// uri, got {uri!r}")
    path = Path(fs)
    return await acceptance.run(ls, path, _workspace_for(ls, path))


# Commands the server offers (workspace/executeCommand): module-level handlers, one table.
COMMANDS = {
    "harness.runSpec": cmd_run_spec,
    "harness.approve": cmd_approve,
    "harness.deny": cmd_deny,
    "harness.approveSimilar": cmd_approve_similar,
    "harness.showDiff": cmd_show_diff,
    "harness.diffContents": cmd_diff_contents,
    "harness.cancelRun": cmd_cancel,
    "harness.openDashboard": cmd_dashboard,
    "harness.showRun": cmd_show_run,
    "harness.newSpec": cmd_new_spec,
    "harness.runAcceptanceTests": cmd_acceptance,
}


def dashboard_link(sidecar: Any, run_id: str = "") -> str:
    """A one-time login link to the sidecar's dashboard (the nonce, never the token, in the URL
    fragment), landing on the run when one is given."""
    from urllib.parse import quote

    logins = getattr(sidecar.app.state.settings, "logins", None)
    target = f"/#/runs/{run_id}" if run_id else "/"
    if logins is None or sidecar.app.state.settings.token is None:
        return sidecar.url + target
    nxt = f"?next={quote(target, safe='')}" if run_id else ""
    # the run also rides in the fragment: code-server's asExternalUri keeps the path and the
    # fragment of a /proxy/<port>/ link but drops its query (tests/vscode e2e)
    run = f"&run={quote(run_id, safe='')}" if run_id else ""
    return f"{sidecar.url}/login{nxt}#nonce={logins.new_nonce()}{run}"
