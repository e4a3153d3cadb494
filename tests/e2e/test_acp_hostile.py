"""`agentctl acp` against a hostile ACP client: frames that killed it, and session ids that
reached other routes of the daemon.

- A frame nested 5,000 levels deep made `json.loads` raise RecursionError: the host exited
  without an answer (eafb02f), and `1e999` / `NaN` got "Internal error" from deep in the library.
- A `sessionId` is put into API paths, and the HTTP client resolves `..`: `session/cancel` with
  `../runs/<id>` cancelled a run of another workspace on the shared daemon (eafb02f), and
  `session/prompt` with `../x` asked the daemon for `/x`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import DOCS, Api, make_repo, queue, start_agentd, wait_for
from tests.e2e.test_acp_cold import RawAcp, cold  # noqa: F401 - the fixture

INIT = {"jsonrpc": "2.0", "id": 99, "method": "initialize", "params": {"protocolVersion": 1}}


def _alive(raw: RawAcp) -> None:
    raw.send(json.dumps(INIT).encode())
    ok = raw.read()
    assert ok["id"] == 99 and ok["result"]["agentInfo"]["name"] == "harness-ls", ok


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        (b'{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":1,"x":'
         + b"[" * 5000 + b"]" * 5000 + b"}}", "nested more than 64 levels deep"),
        (b'{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":1,"x":'
         + b"[" * 65 + b"]" * 65 + b"}}", "nested more than 64 levels deep"),
        (b'{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":1e999}}',
         "number 1e999 is out of range"),
        (b'{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":NaN}}',
         "NaN is not JSON"),
    ],
)  # fmt: skip
def test_a_frame_too_deep_or_with_a_number_json_cannot_hold_is_a_parse_error(cold, frame, says):  # noqa: F811
    raw = RawAcp(cold["env"], cold["repo"])
    try:
        raw.send(frame)
        err = raw.read()
        assert err["id"] is None and err["error"]["code"] == -32700, err
        assert says in err["error"]["message"], err
        _alive(raw)
    finally:
        assert raw.close() == 0


def _token(data: Path) -> str:
    return (data / "auth" / "token").read_text().strip()


def test_a_session_id_cannot_reach_another_route_of_the_daemon(cold, procs):  # noqa: F811
    s = cold
    agentd = start_agentd(s["tmp"], s["data"], env=s["env"])
    procs.append(agentd)
    other = make_repo(s["tmp"] / "other")  # another workspace, a run waiting for its owner
    plan = json.dumps({"steps": [{"title": "write"}]})
    write = {"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}
    queue(s["fake"].url, {"text": plan}, {"tool_calls": [write]}, {"text": "done"}, DOCS)
    api = Api(agentd.url, _token(s["data"]))
    run_id = api.start_run(other, "openai:gpt-4.1")["id"]
    api.wait_approval(run_id, 60)

    raw = RawAcp(s["env"], s["repo"])
    try:
        _alive(raw)
        new = {"jsonrpc": "2.0", "id": 1, "method": "session/new",
               "params": {"cwd": str(s["repo"]), "mcpServers": []}}  # fmt: skip
        raw.send(json.dumps(new).encode())
        assert raw.read()["result"]["sessionId"]
        for bogus in (f"../runs/{run_id}", "../x"):
            cancel = {"jsonrpc": "2.0", "method": "session/cancel",
                      "params": {"sessionId": bogus}}  # fmt: skip
            raw.send(json.dumps(cancel).encode())
            prompt = {"jsonrpc": "2.0", "id": 2, "method": "session/prompt",
                      "params": {"sessionId": bogus,
                                 "prompt": [{"type": "text", "text": "hi"}]}}  # fmt: skip
            raw.send(json.dumps(prompt).encode())
            err = raw.read()
            assert err["id"] == 2 and err["error"]["code"] == -32602, err
            assert err["error"]["message"] == f"unknown session {bogus!r}", err
        _alive(raw)  # the cancels before were handled by now, in order
        assert api.run(run_id)["status"] == "waiting_approval"
        assert [a["id"] for a in api.approvals(run_id)] != []
    finally:
        assert raw.close() == 0
        api.post(f"/v1/runs/{run_id}/cancel", {})
        wait_for(lambda: api.run(run_id)["status"] == "cancelled", 30, what="the cleanup cancel")
        api.close()
