"""Approvals reach every kind of editor (pytest-lsp, scripted model, real git repo, no sidecar).

Push-only clients get them by publishDiagnostics, pull clients that can refresh by pull — never
both; clients without code actions get window/showMessageRequest (Approve / Deny / Show diff).
The approval sits in the spec buffer on the line of the plan step that asked, and on the target
file only when that file exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import attrs
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE
from tests.lsp.test_runs import command_of, open_greet, wait_for

STEP_LINE = 2  # PLAN's step points at spec line 2 ("Make greet.txt say hello ...")
CREATE = {
    "tool_calls": [{"name": "write_file", "arguments": {"path": "new.txt", "content": "new\n"}}]
}


def push_caps(code_actions: bool = True) -> t.ClientCapabilities:
    """Like Emacs eglot / Sublime LSP: publishDiagnostics only, no pull."""
    return t.ClientCapabilities(
        text_document=t.TextDocumentClientCapabilities(
            publish_diagnostics=t.PublishDiagnosticsClientCapabilities(),
            code_action=t.CodeActionClientCapabilities() if code_actions else None,
        ),
        window=t.WindowClientCapabilities(
            work_done_progress=True, show_document=t.ShowDocumentClientCapabilities(support=True)
        ),
    )


def pull_caps() -> t.ClientCapabilities:
    """A pull client that honours workspace/diagnostic/refresh (VS Code does)."""
    caps = client_capabilities("neovim@v0.11")
    ws = attrs.evolve(
        caps.workspace, diagnostics=t.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    )
    return attrs.evolve(caps, workspace=ws)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"]))
async def lsp(lsp_client: LanguageClient):
    yield lsp_client
    with contextlib.suppress(Exception):  # a test that failed before initialize must not hang
        await asyncio.wait_for(lsp_client.shutdown_session(), 20)


async def start(client, tmp: Path, caps, responses, settings=None) -> None:
    opts = {"sidecar": {"enabled": False}, **(settings or {})}
    await open_greet(client, tmp, caps, responses, **opts)


async def run(client) -> str:
    result = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.runSpec", arguments=[client.spec_uri])
    )
    return result["runId"]


def harness_diags(client, uri: str) -> list[t.Diagnostic]:
    return [d for d in client.diagnostics.get(uri, ()) if d.source == "harness"]


async def ended(client) -> list:
    def done():
        for reports in client.progress_reports.values():
            if reports and isinstance(reports[-1], t.WorkDoneProgressEnd):
                return reports
        return None

    return await wait_for(done, 60)


async def test_push_only_client_sees_the_approval_on_the_spec_line_and_the_file(lsp, tmp_path):
    await start(lsp, tmp_path, push_caps(), [PLAN, WRITE, DONE, DOCS])
    await run(lsp)
    spec_diags = await wait_for(lambda: harness_diags(lsp, lsp.spec_uri))
    assert [d.range.start.line for d in spec_diags] == [STEP_LINE]
    assert "greet.txt" in spec_diags[0].message
    greet = (lsp.ws / "greet.txt").as_uri()
    assert len(await wait_for(lambda: harness_diags(lsp, greet))) == 1
    actions = await lsp.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=lsp.spec_uri),
            range=spec_diags[0].range,
            context=t.CodeActionContext(diagnostics=spec_diags),
        )
    )
    titles = [a.title for a in actions]
    assert "Show diff" in titles and "Approve similar for this run" in titles
    approve = next(a for a in actions if a.title.startswith("Approve greet") or (
        a.title.startswith("Approve") and "similar" not in a.title))  # fmt: skip
    name, arguments = command_of(approve)
    answer = await lsp.workspace_execute_command_async(
        t.ExecuteCommandParams(command=name, arguments=arguments)
    )
    assert answer["ok"] is True
    reports = await ended(lsp)
    assert reports[-1].message == "completed: 1 acceptance test(s) passed"
    steps = [r for r in reports if isinstance(r, t.WorkDoneProgressReport)]
    assert any(
        r.message == "execute: step 1/1 — Write hello into greet.txt" and r.percentage == 0
        for r in steps
    ), [(r.message, r.percentage) for r in steps]
    assert steps[-1].percentage == 100
    await wait_for(lambda: not harness_diags(lsp, lsp.spec_uri) and not harness_diags(lsp, greet))


async def test_pull_client_gets_approvals_by_pull_never_by_push(lsp, tmp_path):
    # after the denial the model gives up; fix attempts and docs say "done" too
    await start(lsp, tmp_path, pull_caps(), [PLAN, WRITE] + [DONE] * 8)
    await run(lsp)

    async def pulled():
        report = await lsp.text_document_diagnostic_async(
            t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri=lsp.spec_uri))
        )
        return [d for d in report.items if d.source == "harness"]

    await wait_for(lambda: lsp.diagnostic_refresh_count)
    items = []
    for _ in range(200):
        items = await pulled()
        if items:
            break
        await asyncio.sleep(0.05)
    assert [d.range.start.line for d in items] == [STEP_LINE]
    approval_id = items[0].data["approval_id"]
    answer = await lsp.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.deny", arguments=[approval_id])
    )
    assert answer["ok"] is True
    reports = await ended(lsp)
    assert reports[-1].message == (
        "failed: acceptance tests failed: 1 of 1 (`grep -qx hello greet.txt`: exit 1)"
    )
    assert await pulled() == []
    assert all(not harness_diags(lsp, uri) for uri in lsp.diagnostics), lsp.diagnostics


async def test_message_request_approve_and_show_diff_for_a_new_file(
    lsp, tmp_path, _isolated_data_dir
):
    asked: list[t.ShowMessageRequestParams] = []

    @lsp.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_request(params: t.ShowMessageRequestParams):
        asked.append(params)
        title = "Show diff" if len(asked) == 1 else "Approve"
        return t.MessageActionItem(title=title)

    await start(lsp, tmp_path, push_caps(code_actions=False), [PLAN, CREATE, DONE, DOCS])
    await run(lsp)
    await wait_for(lambda: (lsp.ws / "new.txt").exists(), 60)
    assert [a.title for a in asked[0].actions] == ["Approve", "Deny", "Show diff"]
    assert "new.txt" in asked[0].message and len(asked) == 2
    diff = Path(lsp.shown_documents[0].uri.removeprefix("file://"))
    assert diff.is_relative_to(_isolated_data_dir) and "+new" in diff.read_text()
    # auto + no code actions: the message only, no approval diagnostics anywhere
    assert all(not harness_diags(lsp, uri) for uri in lsp.diagnostics)
    assert (lsp.ws / "new.txt").read_text() == "new\n"


async def test_both_channels_and_no_anchor_on_a_missing_file(lsp, tmp_path):
    asked: list[t.ShowMessageRequestParams] = []

    @lsp.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_request(params: t.ShowMessageRequestParams):
        asked.append(params)
        return None  # dismissed: the diagnostic still offers it

    await start(
        lsp, tmp_path, push_caps(), [PLAN, CREATE, DONE, DOCS], {"approvals": {"prompt": "both"}}
    )
    await run(lsp)
    diags = await wait_for(lambda: harness_diags(lsp, lsp.spec_uri))
    await wait_for(lambda: asked)
    assert [d.range.start.line for d in diags] == [STEP_LINE]
    assert (lsp.ws / "new.txt").as_uri() not in lsp.diagnostics
    await lsp.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.approve", arguments=[diags[0].data["approval_id"]])
    )
    await ended(lsp)
    assert (lsp.ws / "new.txt").read_text() == "new\n"


async def test_offline_run_says_nothing_was_executed(lsp, tmp_path):
    await start(lsp, tmp_path, push_caps(), [], {"model": None})
    (lsp.ws / "greet.txt").write_text("hello\n")  # the acceptance test passes as it is
    await lsp.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.runSpec", arguments=[lsp.spec_uri])
    )
    reports = await ended(lsp)
    assert reports[-1].message == "completed offline: nothing executed — configure a model"
