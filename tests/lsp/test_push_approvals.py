"""A push-only client (no pull diagnostics: Emacs eglot, older Vim clients) sees approvals.

Approval diagnostics anchored in the open spec are published with its lint diagnostics; before
the typed provider list (server.diagnostic_providers) they were dropped, because the lint publish
looked them up under a string key nothing set (issue 20). pytest-lsp, scripted model, real repo.
"""

from __future__ import annotations

import sys

import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness_ls.testing.greet import DOCS, DONE, PLAN, SPEC
from tests.lsp.test_runs import approval_diags, open_greet, run_spec, wait_for

SHELL = {
    "tool_calls": [{"name": "shell", "arguments": {"command": "printf 'hello\\n' > greet.txt"}}]
}


def push_only_capabilities() -> t.ClientCapabilities:
    caps = client_capabilities("neovim@v0.11")
    caps.text_document.diagnostic = None  # push only: publishDiagnostics is all it reads
    return caps


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"]))
async def client(lsp_client: LanguageClient, tmp_path):
    await open_greet(lsp_client, tmp_path, push_only_capabilities(), [PLAN, SHELL, DONE, DOCS])
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_push_only_client_sees_the_approval_in_the_spec_and_keeps_it_while_typing(client):
    await run_spec(client)
    diags = await wait_for(lambda: approval_diags(client, client.spec_uri))
    assert len(diags) == 1 and diags[0].code == "approval"
    assert diags[0].range.start.line == 2  # the plan step's spec line
    assert "printf 'hello\\n' > greet.txt" in diags[0].message
    # a keystroke re-publishes the lint diagnostics: the approval is in that same publish
    edited = SPEC + "\n# Goal\n\nagain\n"  # a duplicate section (HLS002) marks the new publish
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=client.spec_uri, version=2),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    latest = await wait_for(
        lambda: (d := client.diagnostics.get(client.spec_uri, ())) and "HLS002" in codes(d) and d
    )
    assert sorted(codes(latest)) == ["HLS002", "approval"]
    answer = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.approve", arguments=[diags[0].data["approval_id"]])
    )
    assert answer["ok"] is True
    await wait_for(lambda: not approval_diags(client, client.spec_uri), 30)
    assert codes(client.diagnostics[client.spec_uri]) == ["HLS002"]


def codes(diags) -> list[str]:
    return [str(d.code) for d in diags]
