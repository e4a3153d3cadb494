"""Run progress tells the truth in every client (issue 35): one message per state change, none
after the state ended, percentages that move through the run; `window/showMessage` at each step
for a client without `$/progress`; the code lens refreshed when the diagnostics change it."""

from __future__ import annotations

import sys

import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE
from tests.lsp.test_runs import approval_diags, open_greet, run_spec, wait_for

CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"])
NO_SIDECAR = {"sidecar": {"enabled": False}}

# The greet run, as a user reads it: (message, percentage) of every $/progress report.
GREET_REPORTS = [
    ("plan: planning", 0),
    ("plan: 1 step ready", 0),
    ("execute: step 1/1 — Write hello into greet.txt", 0),
    ("execute: step 1/1 — waiting for approval: overwrite greet.txt (6 bytes)", 0),
    ("execute: step 1/1 — Write hello into greet.txt", 0),
    ("execute: 1/1 steps done", 33),
    ("verify: test 1/1 — `grep -qx hello greet.txt`", 33),
    ("verify: 1/1 passed", 66),
    ("docs: Update documentation", 66),
    ("docs: nothing to update", 100),
]


async def _approve_when_asked(client: LanguageClient) -> None:
    greet = (client.ws / "greet.txt").as_uri()
    diags = await wait_for(lambda: approval_diags(client, greet))
    answer = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.approve", arguments=[diags[0].data["approval_id"]])
    )
    assert answer["ok"] is True


@pytest_lsp.fixture(config=CONFIG)
async def progress_client(lsp_client: LanguageClient, tmp_path):
    caps = client_capabilities("neovim@v0.11")
    await open_greet(lsp_client, tmp_path, caps, [PLAN, WRITE, DONE, DOCS], **NO_SIDECAR)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_progress_reports_each_state_once_with_moving_percentages(progress_client):
    client = progress_client
    await run_spec(client)
    await _approve_when_asked(client)
    token = await wait_for(
        lambda: next(
            (
                k
                for k, v in client.progress_reports.items()
                if isinstance(v[-1], t.WorkDoneProgressEnd)
            ),
            None,
        )
    )
    reports = client.progress_reports[token]
    begin, *middle, end = reports
    assert isinstance(begin, t.WorkDoneProgressBegin)
    assert (begin.title, begin.message, begin.percentage) == ("harness: greet", "starting", 0)
    assert [(r.message, r.percentage) for r in middle] == GREET_REPORTS
    assert isinstance(end, t.WorkDoneProgressEnd) and end.message.startswith("completed")


@pytest_lsp.fixture(config=CONFIG)
async def no_progress_client(lsp_client: LanguageClient, tmp_path):
    """Neovim's capabilities less `window.workDoneProgress`: what eglot 1.9 is like."""
    caps = client_capabilities("neovim@v0.11")
    caps.window.work_done_progress = False
    await open_greet(lsp_client, tmp_path, caps, [PLAN, WRITE, DONE, DOCS], **NO_SIDECAR)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_a_client_without_progress_hears_each_step_once_by_show_message(
    no_progress_client,
):
    client = no_progress_client
    await run_spec(client)
    await _approve_when_asked(client)
    await wait_for(lambda: any("completed" in m.message for m in client.messages))
    assert not client.progress_reports
    assert [(m.type, m.message) for m in client.messages] == [
        (t.MessageType.Info, "harness: greet — plan: planning (0%)"),
        (
            t.MessageType.Info,
            "harness: greet — execute: step 1/1 — Write hello into greet.txt (0%)",
        ),
        (
            t.MessageType.Info,
            "harness: greet — execute: step 1/1 — waiting for approval: overwrite greet.txt (6 bytes) (0%)",
        ),
        (
            t.MessageType.Info,
            "harness: greet — verify: test 1/1 — `grep -qx hello greet.txt` (33%)",
        ),
        (t.MessageType.Info, "harness: greet — docs: Update documentation (66%)"),
        (t.MessageType.Info, "harness: greet completed: 1 acceptance test(s) passed"),
    ]


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def _lens_titles(client: LanguageClient, uri: str) -> list[str]:
    lenses = await client.text_document_code_lens_async(
        t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=uri))
    )
    return [lens.command.title for lens in lenses or []]


async def test_the_lens_is_refreshed_when_the_errors_it_counts_change(vscode_client):
    """VS Code's capabilities (workspace.codeLens.refreshSupport): fixing the spec asks the
    client to fetch the lenses again; an edit that leaves them as they were does not."""
    client = vscode_client
    refreshes: list[None] = []

    @client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: None) -> None:
        refreshes.append(params)

    uri = (client.root / "specs/login/spec.md").as_uri()
    broken = "# Goals\nx\n# Acceptance Tests\n- `make test`\n"
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(
                uri=uri, language_id="markdown", version=1, text=broken
            )
        )
    )
    assert (await _lens_titles(client, uri))[0] == "▶ Run spec (disabled: fix 3 errors first)"
    fixed = (
        "# Goal\n\nx\n\n# Constraints / nuances\n\nTODO\n\n# Acceptance tests\n\n- `make test`\n"
    )
    _change(client, uri, 2, fixed)
    # a request after the change: anything the change triggered has been sent before its answer
    assert (await _lens_titles(client, uri))[0] == "▶ Run spec"
    assert len(refreshes) == 1
    _change(client, uri, 3, fixed.replace("x\n", "xy\n"))  # same errors, same heading lines
    assert (await _lens_titles(client, uri))[0] == "▶ Run spec"
    assert len(refreshes) == 1
    _change(client, uri, 4, "\n" + fixed)  # the lenses' lines move: refresh
    await _lens_titles(client, uri)
    assert len(refreshes) == 2
