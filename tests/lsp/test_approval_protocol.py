"""The editor's approval protocol is what specs-schema/approval-protocol.schema.json says.

Real server messages (pytest-lsp, scripted model, real git repo), captured as raw JSON before
any decoding, are validated against the schema: harness/approvalRequested, the Approve / Deny
code actions' `data` and command arguments, harness/approvalResolved and harness/runStatus'
pending ids. The VS Code client's types are generated from the same schema: the checked-in
file must be what the generator writes now. And a settings change reaches the running Harness.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from jsonschema import Draft202012Validator
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness_ls.store.log import read_events
from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE
from tests.lsp.test_runs import open_greet, run_spec, wait_for

ROOT = Path(__file__).resolve().parents[2]
OFF = {"enabled": False}
SCHEMA = json.loads((ROOT / "specs-schema" / "approval-protocol.schema.json").read_text())


def check(name: str, value: Any) -> None:
    """`value` is a valid `name` of the schema (every error listed when it is not)."""
    validator = Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{name}"})
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(value)]
    assert not errors, f"{name} {value!r}: {errors}"


def record_raw(client: LanguageClient) -> list[dict[str, Any]]:
    """Every JSON-RPC message the server sends from now on, as parsed JSON (nothing decoded)."""
    raw: list[dict[str, Any]] = []
    structure = client.protocol.structure_message

    def keep(data: dict[str, Any]) -> Any:
        if "jsonrpc" in data:
            raw.append(copy.deepcopy(data))
        return structure(data)

    client.protocol.structure_message = keep  # io_ looks it up for each message
    return raw


def notes(raw: list[dict[str, Any]], method: str) -> list[dict[str, Any]]:
    return [m["params"] for m in raw if m.get("method") == method]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"]))
async def client(lsp_client: LanguageClient, tmp_path):
    caps = client_capabilities("neovim@v0.11")
    await open_greet(lsp_client, tmp_path, caps, [PLAN, WRITE, DONE, DOCS], sidecar=OFF)
    lsp_client.raw = record_raw(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_server_messages_follow_the_approval_schema(client):
    raw = client.raw
    run_id = (await run_spec(client))["runId"]
    asked = (await wait_for(lambda: notes(raw, "harness/approvalRequested")))[0]
    check("ApprovalRequested", asked)
    aid = asked["approval_id"]
    assert asked["run_id"] == run_id and asked["step_id"] == aid and asked["id"] == aid
    assert asked["tool"] == "write_file" and asked["spec_uri"] == client.spec_uri
    assert asked["summary"] and asked["title"]
    statuses = await wait_for(
        lambda: [s for s in notes(raw, "harness/runStatus") if s["pendingApprovalIds"] == [aid]]
    )
    for status in notes(raw, "harness/runStatus"):
        check("RunStatusApprovals", status)
    assert statuses[-1]["pendingApprovals"] == 1

    greet = (client.ws / "greet.txt").as_uri()
    at = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=0, character=0))
    before = len(raw)
    await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=greet),
            range=at,
            context=t.CodeActionContext(diagnostics=[]),
        )
    )
    answer = next(m for m in raw[before:] if "result" in m)
    actions = answer["result"]
    titles = [a["title"] for a in actions]
    assert titles == [
        f"Approve ({asked['tool']}): {asked['title']}",
        f"Deny ({asked['tool']}): {asked['title']}",
        "Approve similar for this run",
        "Show diff",
    ]
    for action in actions:
        check("ApprovalActionData", action["data"])
        check("ApprovalCommandArguments", action["command"]["arguments"])
        assert action["data"] == {"approval_id": aid, "run_id": run_id, "step_id": aid}
        assert action["command"]["arguments"] == [aid]

    approve = actions[0]["command"]
    result = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=approve["command"], arguments=approve["arguments"])
    )
    assert result["ok"] is True
    done = (await wait_for(lambda: notes(raw, "harness/approvalResolved")))[0]
    check("ApprovalResolved", done)
    assert (done["approval_id"], done["step_id"], done["run_id"]) == (aid, aid, run_id)
    assert (done["decision"], done["surface"]) == ("approve", "editor")
    assert done["title"] == asked["title"] and done["summary"] == asked["summary"]
    await wait_for(
        lambda: any(s["pendingApprovalIds"] == [] for s in notes(raw, "harness/runStatus")[-3:])
    )


def test_the_client_types_are_generated_from_the_schema_now():
    path = ROOT / "vscode-client" / "scripts" / "gen_approval_types.py"
    spec = importlib.util.spec_from_file_location("gen_approval_types", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    checked_in = (ROOT / "vscode-client" / "src" / "approvalProtocol.ts").read_text()
    assert checked_in == gen.render(SCHEMA), "run vscode-client/scripts/gen_approval_types.py"
    assert "export interface ApprovalRequested {" in checked_in


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"]))
async def ask_client(lsp_client: LanguageClient, tmp_path):
    caps = client_capabilities("neovim@v0.11")
    await open_greet(
        lsp_client, tmp_path, caps, [PLAN, WRITE, DONE, DOCS], policyMode="ask", sidecar=OFF
    )
    lsp_client.raw = record_raw(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_a_policy_mode_change_reaches_runs_started_afterwards(ask_client, _isolated_data_dir):
    client = ask_client
    # the Harness exists (created in "ask" mode) before the setting changes
    with pytest.raises(Exception, match="run_missing"):
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="harness.showRun", arguments=["run_missing"])
        )
    client.workspace_did_change_configuration(
        t.DidChangeConfigurationParams(settings={"harness": {"policyMode": "full-auto"}})
    )
    run_id = (await run_spec(client))["runId"]
    ends = await wait_for(
        lambda: [
            s
            for s in notes(client.raw, "harness/runStatus")
            if s["runId"] == run_id and s["state"] in ("completed", "failed")
        ]
    )
    assert ends[-1]["state"] == "completed"
    events = list(read_events(_isolated_data_dir / "runs" / run_id / "events.ndjson"))
    kinds = [e.type for e in events]
    assert "approval.requested" not in kinds  # "ask" would have asked before writing
    assert "tool.result" in kinds
    assert (client.ws / "greet.txt").read_text() == "hello\n"
    assert not notes(client.raw, "harness/approvalRequested")
