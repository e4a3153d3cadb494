"""Runs and approvals from the editor (pytest-lsp, scripted model, real git repo, real sidecar)."""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness_ls.testing.greet import DOCS, DONE, PLAN, SPEC, WRITE


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_repo(tmp: Path) -> Path:
    ws = tmp / "repo"
    (ws / "specs" / "greet").mkdir(parents=True)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "t@example.com")
    git(ws, "config", "user.name", "Test")
    (ws / "greet.txt").write_text("hi\n")
    (ws / "specs" / "greet" / "spec.md").write_text(SPEC)
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "init")
    return ws


async def open_greet(
    client: LanguageClient, tmp: Path, caps: Any, responses: list[dict], **harness: Any
) -> None:
    """Initialize `client` on a fresh greet repo with a scripted model answering `responses`
    (plus `harness` initialization options), and open its spec: `client.ws`, `client.spec_uri`."""
    ws = make_repo(tmp)
    script = tmp / "script.json"
    script.write_text(json.dumps({"responses": responses}))
    await client.initialize_session(
        t.InitializeParams(
            capabilities=caps,
            root_uri=ws.as_uri(),
            workspace_folders=[t.WorkspaceFolder(uri=ws.as_uri(), name="repo")],
            initialization_options={"harness": {"model": f"scripted:{script}", **harness}},
        )
    )
    client.ws = ws
    client.spec_uri = (ws / "specs" / "greet" / "spec.md").as_uri()
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(
                uri=client.spec_uri, language_id="markdown", version=1, text=SPEC
            )
        )
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"]))
async def client(lsp_client: LanguageClient, tmp_path):
    caps = client_capabilities("neovim@v0.11")
    await open_greet(
        lsp_client, tmp_path, caps, [PLAN, WRITE, DONE, DOCS], sidecar={"enabled": True, "port": 0}
    )
    yield lsp_client
    await lsp_client.shutdown_session()


async def wait_for(pred, within: float = 60.0, step: float = 0.02):
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        value = pred()
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError("condition not met in time")


def approval_diags(client, uri: str) -> list[t.Diagnostic]:
    return [d for d in client.diagnostics.get(uri, ()) if d.source == "harness"]


def command_of(action) -> tuple[str, list]:
    """pytest-lsp decodes a CodeAction that carries a command as a Command (see FACTS.md)."""
    cmd = action.command
    if isinstance(cmd, str) and cmd.startswith("{"):
        cmd = ast.literal_eval(cmd)  # the nested command object, stringified by the decoder
    if isinstance(cmd, dict):
        return cmd["command"], cmd.get("arguments") or []
    if isinstance(cmd, t.Command):
        return cmd.command, list(cmd.arguments or [])
    return cmd, list(action.arguments or [])


async def run_spec(client) -> dict:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.runSpec", arguments=[client.spec_uri])
    )


async def test_run_reports_progress_and_the_approve_code_action_finishes_it(client):
    result = await run_spec(client)
    assert result["runId"].startswith("run_")
    greet = (client.ws / "greet.txt").as_uri()
    diags = await wait_for(lambda: approval_diags(client, greet))
    assert "greet.txt" in diags[0].message and "+hello" in diags[0].message
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=greet),
            range=diags[0].range,
            context=t.CodeActionContext(diagnostics=diags),
        )
    )
    titles = [a.title for a in actions]
    assert any(x.startswith("Approve") for x in titles) and any(
        x.startswith("Deny") for x in titles
    )
    assert "Approve similar for this run" in titles
    approve = next(a for a in actions if a.title.startswith("Approve") and "similar" not in a.title)
    name, arguments = command_of(approve)
    answer = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=name, arguments=arguments)
    )
    assert answer["ok"] is True
    token = await wait_for(
        lambda: next(
            (
                k
                for k, v in client.progress_reports.items()
                if v and isinstance(v[-1], t.WorkDoneProgressEnd)
            ),
            None,
        ),
        30,
    )
    reports = client.progress_reports[token]
    assert isinstance(reports[0], t.WorkDoneProgressBegin) and "greet" in reports[0].title
    assert any(isinstance(r, t.WorkDoneProgressReport) for r in reports)
    assert reports[-1].message.startswith("completed")
    assert (client.ws / "greet.txt").read_text() == "hello\n"
    await wait_for(lambda: not approval_diags(client, greet))
    again = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.approve", arguments=arguments)
    )
    assert again["ok"] is False and "already answered (by editor, approve)" in again["message"]


async def test_http_answer_clears_the_editor_diagnostic(client, _isolated_data_dir):
    result = await run_spec(client)
    greet = (client.ws / "greet.txt").as_uri()
    diags = await wait_for(lambda: approval_diags(client, greet))
    approval_id = diags[0].data["approval_id"]
    endpoint = await wait_for(lambda: list((_isolated_data_dir / "endpoints").glob("*.json")))
    url = json.loads(endpoint[0].read_text())["url"]
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{url}/v1/runs/{result['runId']}/approvals/{approval_id}", json={"decision": "approve"}
        )
        assert r.status_code == 200, r.text
    await wait_for(lambda: not approval_diags(client, greet), 20)


async def test_progress_cancel_cancels_the_run(client):
    result = await run_spec(client)
    greet = (client.ws / "greet.txt").as_uri()
    await wait_for(lambda: approval_diags(client, greet))
    token = next(iter(client.progress_reports))
    client.window_work_done_progress_cancel(t.WorkDoneProgressCancelParams(token=token))
    await wait_for(
        lambda: isinstance(client.progress_reports[token][-1], t.WorkDoneProgressEnd), 20
    )
    end = client.progress_reports[token][-1].message
    assert end.startswith("cancelled: from the editor while waiting for approval: "), end
    assert "greet.txt" in end
    shown = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.showRun", arguments=[result["runId"]])
    )
    assert shown["status"] == "cancelled"


async def test_invalid_spec_and_wrong_arguments_are_clear_errors(client):
    bad = (client.ws / "specs" / "greet" / "spec.md").as_uri()
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=bad, version=2),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text="# Goal\n\nx\n")],
        )
    )
    with pytest.raises(Exception, match="2 error"):
        await run_spec(client)
    with pytest.raises(Exception, match="expects one argument"):
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="harness.cancelRun", arguments=[1, 2])
        )
    unknown = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.approve", arguments=["st_nope"])
    )
    assert unknown["ok"] is False


async def test_code_lenses_offer_run_and_acceptance_tests(client):
    lenses = await client.text_document_code_lens_async(
        t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=client.spec_uri))
    )
    titles = [lens.command.title for lens in lenses]
    assert titles == ["▶ Run spec", "Run acceptance tests"]
    result = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.runAcceptanceTests", arguments=[client.spec_uri])
    )
    assert result["passed"] == 0 and result["failed"] == 1  # greet.txt still says hi


async def _spec_session_says_bonjour(client, data_dir: Path, tmp_path: Path, applied: bool):
    """A spec-mode session whose scripted model rewrites the open spec once; the editor answers
    the applyEdit with `applied`. (edits the client got, the session's event log as SSE text)."""
    edits: list[t.ApplyWorkspaceEditParams] = []

    @client.feature(t.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: t.ApplyWorkspaceEditParams):
        edits.append(params)
        reason = None if applied else "document changed"
        return t.ApplyWorkspaceEditResult(applied=applied, failure_reason=reason)

    new_spec = SPEC.replace("hello instead of hi", "bonjour instead of hi")
    script = tmp_path / "spec-session.json"
    script.write_text(json.dumps({"responses": [
        {"tool_calls": [{"name": "write_spec", "arguments": {"content": new_spec}}]},
        {"text": "Done."},
    ]}))  # fmt: skip
    endpoint = await wait_for(lambda: list((data_dir / "endpoints").glob("*.json")))
    url = json.loads(endpoint[0].read_text())["url"]
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{url}/v1/sessions", json={"workspace": str(client.ws), "mode": "spec",
                                                         "spec_path": "specs/greet/spec.md", "model": f"scripted:{script}"})  # fmt: skip
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        r = await http.post(f"{url}/v1/sessions/{sid}/messages", json={"text": "Say bonjour"})
        assert r.status_code in (200, 201, 202), r.text
        await wait_for(lambda: edits)
        text = ""
        for _ in range(600):
            r = await http.get(f"{url}/v1/sessions/{sid}/events", params={"follow": "false"})
            text = r.text
            if "turn.completed" in text:
                break
            await asyncio.sleep(0.05)
    return edits, text


async def test_spec_session_rewrite_goes_through_the_open_buffer(
    client, _isolated_data_dir, tmp_path
):
    spec_file = client.ws / "specs" / "greet" / "spec.md"
    before = spec_file.read_bytes()
    edits, log = await _spec_session_says_bonjour(client, _isolated_data_dir, tmp_path, True)
    change = edits[0].edit.document_changes[0]
    assert change.text_document.uri == client.spec_uri
    assert "bonjour" in change.edits[0].new_text
    assert "turn.completed" in log and "spec.written" in log
    assert spec_file.read_bytes() == before  # the buffer, not the disk


async def test_a_spec_session_rewrite_the_editor_refuses_is_not_written_to_disk(
    client, _isolated_data_dir, tmp_path
):
    """The editor refused the edit (the user typed meanwhile): the rewrite was written to disk
    under the open buffer instead, racing the user's next save. Now nothing is written, and the
    model is told why."""
    spec_file = client.ws / "specs" / "greet" / "spec.md"
    before = spec_file.read_bytes()
    edits, log = await _spec_session_says_bonjour(client, _isolated_data_dir, tmp_path, False)
    assert len(edits) == 1
    assert "turn.completed" in log
    assert "did not apply the change" in log and "spec.written" not in log
    assert spec_file.read_bytes() == before


async def test_a_spec_outside_every_workspace_says_why_it_cannot_run(client, tmp_path):
    """A `*.spec.md` in a folder that is neither a workspace folder nor in a git repository: the
    error said so only in the response, whose server-range code tells the VS Code extension
    that the server showed it already — so VS Code showed nothing at all."""
    loose = tmp_path / "loose" / "notes.spec.md"
    loose.parent.mkdir()
    loose.write_text(SPEC)
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(
                uri=loose.as_uri(), language_id="markdown", version=1, text=SPEC
            )
        )
    )
    why = (
        f"{loose} is not inside a workspace folder or a git repository: open its project "
        "folder in the editor, or run `git init` there"
    )
    for command in ("harness.runSpec", "harness.runAcceptanceTests"):
        with pytest.raises(Exception) as raised:
            await client.workspace_execute_command_async(
                t.ExecuteCommandParams(command=command, arguments=[loose.as_uri()])
            )
        assert raised.value.code == -32002
        assert str(raised.value.message) == why
    assert [(m.type, m.message) for m in client.messages if "workspace folder" in m.message] == [
        (t.MessageType.Error, why),
        (t.MessageType.Error, why),
    ]


async def test_a_spec_saved_with_a_byte_order_mark_runs(client):
    """The spec on disk starts with a UTF-8 BOM; the editor's buffer does not (Neovim and VS Code
    keep it out). The run was refused ("Missing required heading '# Goal'") and the editor was
    told that unsaved changes would be left out, though there were none."""
    spec = client.ws / "specs" / "greet" / "spec.md"
    spec.write_bytes(b"\xef\xbb\xbf" + SPEC.encode())
    result = await run_spec(client)
    assert result["runId"].startswith("run_") and result["status"] == "created"
    # the warning would have come before the answer (the server sends it first)
    assert [m.message for m in client.messages if "unsaved" in m.message] == []


async def test_a_name_spec_md_file_is_named_by_its_name(client, _isolated_data_dir):
    """docs/farewell.spec.md (the `**/*.spec.md` glob): its acceptance tests were reported as
    "docs: 0/1 ...", its run titled "farewell.spec"."""
    loose = client.ws / "docs" / "farewell.spec.md"
    loose.parent.mkdir()
    loose.write_text(SPEC)
    result = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.runAcceptanceTests", arguments=[loose.as_uri()])
    )
    assert (result["passed"], result["failed"]) == (0, 1)
    assert [m.message for m in client.messages if "acceptance tests passed" in m.message] == [
        "farewell: 0/1 acceptance tests passed — failing: line 11 `grep -qx hello greet.txt`"
    ]
    started = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.runSpec", arguments=[loose.as_uri()])
    )

    def begun() -> list[str]:
        return [
            r.title
            for reports in client.progress_reports.values()
            for r in reports
            if getattr(r, "kind", "") == "begin" and "farewell" in (r.title or "")
        ]

    await wait_for(lambda: "harness: farewell" in begun())
    titles = begun()
    assert titles == ["acceptance tests: farewell", "harness: farewell"]
    endpoint = await wait_for(lambda: list((_isolated_data_dir / "endpoints").glob("*.json")))
    url = json.loads(endpoint[0].read_text())["url"]
    async with httpx.AsyncClient() as http:
        run = (await http.get(f"{url}/v1/runs/{started['runId']}")).json()
    assert run["title"] == "farewell"


async def test_running_a_spec_never_saved_says_save_it_first(client):
    """A new spec buffer (`:e specs/hello/spec.md`, not written yet): the run was refused with
    "spec specs/hello/spec.md not found ... (create one with `agentctl spec new <name>`)"."""
    new = client.ws / "specs" / "hello" / "spec.md"
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(
                uri=new.as_uri(), language_id="markdown", version=1, text=SPEC
            )
        )
    )
    with pytest.raises(Exception) as raised:
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="harness.runSpec", arguments=[new.as_uri()])
        )
    why = (
        "specs/hello/spec.md is not saved yet: save it, then run it again (a run reads the spec"
        " from disk)"
    )
    assert (raised.value.code, raised.value.message) == (-32002, why)
    assert [(m.type, m.message) for m in client.messages if "saved" in m.message] == [
        (t.MessageType.Error, why)
    ]
