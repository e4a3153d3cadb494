"""The consent gate against a hostile model, end to end: a real agentd (token auth) and the fake
OpenAI-compatible server as processes, real git repos. Nothing the user did not allow runs:
the newline bypass, a policy self-grant that outlives its run, redirects out of the workspace,
and acceptance tests from the spec all stop at the gate (deny, or an approval the user refuses).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness_ls.tools.trust import trust
from tests.e2e.helpers import (
    DOCS,
    SPEC,
    TERMINAL,
    Api,
    clean_env,
    make_repo,
    queue,
    start_agentd,
    start_fake,
    wait_for,
)

TOKEN = "tok-e2e-policy-gate-5a4b3c2d1e0f"
PLAN = {"text": '{"steps": [{"title": "Do the thing"}]}'}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """agentd with a token, talking to the fake OpenAI server over HTTP (answers queued per test)."""
    root = tmp_path_factory.mktemp("gate")
    data = root / "data"
    fake = start_fake(root, default={"text": "nothing more"})
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN,
                    OPENAI_API_KEY="sk-fake-gate", OPENAI_BASE_URL=fake.url)  # fmt: skip
    d = start_agentd(root, data, env=env)
    d.extra.update(data=data, fake=fake)
    yield d
    d.stop()
    fake.stop()


def _model(daemon, *responses: dict[str, Any]) -> str:
    """Queue the model's answers on the fake server; the model id to start a run with."""
    queue(daemon.extra["fake"].url, *responses)
    return "openai:gpt-4o-mini"


def _shell(command: str) -> dict[str, Any]:
    return {"name": "shell", "arguments": {"command": command}}


def _drive(api: Api, rid: str, answer) -> tuple[dict, list[dict]]:
    """Answer every approval with `answer(approval) -> "approve" | "deny"` until the run ends."""
    seen: list[dict] = []

    def step() -> dict | None:
        for a in api.approvals(rid):
            seen.append(a)
            api.approve(rid, a["id"], answer(a))
        m = api.run(rid)
        return m if m["status"] in TERMINAL else None

    final = wait_for(step, 90, every=0.1, what=f"run {rid} to end")
    return final, seen


def _user_policy(daemon, text: str) -> None:
    daemon.extra["data"].mkdir(parents=True, exist_ok=True)
    (daemon.extra["data"] / "policy.toml").write_text(text)


def _calls(events: list[dict]) -> dict[str, list[str]]:
    """command -> the event types its call produced (tool.call, tool.refused, tool.result)."""
    by_id: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for e in events:
        if e["type"] == "tool.call" and e["data"]["name"] == "shell":
            by_id[e["call_id"]] = e["data"]["arguments"]["command"]
        if e["type"] in ("tool.call", "tool.refused", "tool.result") and e["call_id"] in by_id:
            out.setdefault(by_id[e["call_id"]], []).append(e["type"])
    return out


def test_newline_and_redirect_bypasses_never_run_unasked(daemon, tmp_path):
    _user_policy(daemon, 'mode = "ask"\n')
    ws = make_repo(tmp_path / "ws")
    (ws / ".harness").mkdir()
    (ws / ".harness" / "policy.toml").write_text(
        '[allow]\nshell = ["pytest *"]\n[deny]\nshell = ["rm -rf *"]\n'
    )
    trust(daemon.extra["data"], ws / ".harness" / "policy.toml")  # the user trusts their rules
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    denied = [f"pytest -q\nrm -rf {victim}", f"true\nrm -rf {victim}"]
    asked = [f"pytest --version\ntouch {ws}/pwned-newline", f"pytest --version > {outside}/out"]
    script = _model(daemon, PLAN, {"tool_calls": [_shell(c) for c in denied + asked]},
                    {"text": "done"}, DOCS)  # fmt: skip
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, script)["id"]
    final, seen = _drive(api, rid, lambda a: "deny")
    events = api.events(rid)
    calls = _calls(events)
    for command in denied:
        assert calls[command] == ["tool.call", "tool.refused"], (command, calls)
    for command in asked:
        assert calls[command] == ["tool.call", "tool.refused"], (command, calls)
    asked_commands = [a["preview"]["command"] for a in seen]
    assert asked_commands == asked
    assert (victim / "keep.txt").read_text() == "mine\n"
    assert not (ws / "pwned-newline").exists() and list(outside.iterdir()) == []
    first = next(e for e in events if e["type"] == "tool.call" and e["data"]["name"] == "shell")
    parts = first["data"]["policy"]["parts"]
    assert [(p["text"], p["action"]) for p in parts] == [
        ("pytest -q", "allow"),
        (f"rm -rf {victim}", "deny"),
    ]
    assert first["data"]["action"] == "deny" and "rm -rf *" in first["data"]["rule"]
    requested = [e for e in events if e["type"] == "approval.requested"]
    assert "outside the workspace" in requested[-1]["data"]["policy"]["rule"]
    assert final["status"] in ("completed", "failed")
    api.close()


def test_policy_self_grant_does_not_outlive_the_run(daemon, tmp_path):
    """auto-edit: the model writes `[allow] shell = ["*"]` into .harness/policy.toml. The write
    asks (protected path, named in the approval); even approved, the next run in ask mode still
    asks for shell, with a warning naming the trust command."""
    _user_policy(daemon, 'mode = "auto-edit"\n')
    ws = make_repo(tmp_path / "ws")
    grant = {"name": "write_file",
             "arguments": {"path": ".harness/policy.toml", "content": '[allow]\nshell = ["*"]\n'}}  # fmt: skip
    redirect_grant = _shell("echo 'mode = \"full-auto\"' >> .harness/policy.toml")
    script = _model(daemon, PLAN, {"tool_calls": [grant, redirect_grant]}, {"text": "granted"},
                    DOCS)  # fmt: skip
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, script)["id"]
    final, seen = _drive(api, rid, lambda a: "approve" if a["tool"] == "write_file" else "deny")
    assert [a["tool"] for a in seen] == ["write_file", "shell"]
    assert ".harness/policy.toml" in seen[0]["preview"]["summary"]
    events = api.events(rid)
    asked = [e for e in events if e["type"] == "approval.requested"]
    assert asked[0]["data"]["policy"]["protected"] == ".harness/policy.toml"
    assert "protected file .harness/policy.toml" in asked[1]["data"]["policy"]["rule"]
    assert (ws / ".harness" / "policy.toml").read_text() == '[allow]\nshell = ["*"]\n'

    _user_policy(daemon, 'mode = "ask"\n')
    script2 = _model(daemon, PLAN, {"tool_calls": [_shell(f"touch {ws}/pwned-after-grant")]},
                     {"text": "ran"}, DOCS)  # fmt: skip
    rid2 = api.start_run(ws, script2)["id"]
    final2, seen2 = _drive(api, rid2, lambda a: "deny")
    assert [a["preview"]["command"] for a in seen2] == [f"touch {ws}/pwned-after-grant"]
    assert not (ws / "pwned-after-grant").exists()
    warnings = [e["data"] for e in api.events(rid2) if e["type"] == "log"
                and e["data"].get("code") == "policy.untrusted"]  # fmt: skip
    assert (
        warnings and f"agentctl policy trust --workspace {ws.resolve()}" in warnings[0]["message"]
    )
    assert final["status"] in TERMINAL and final2["status"] in TERMINAL
    api.close()


def test_acceptance_tests_pass_the_same_gate(daemon, tmp_path):
    """A spec (maybe from a clone) lists a destructive and an unknown acceptance test: the
    denied one is refused, the unknown one asks through the broker and is refused when denied,
    the read-only check runs. Offline (no model) so the approval flow needs no key."""
    _user_policy(daemon, 'mode = "ask"\n[deny]\nshell = ["rm *"]\n')
    victim = tmp_path / "victim"
    victim.mkdir()
    spec = SPEC.replace(
        "- `grep -qx hello greet.txt`",
        f"- `rm -rf {victim}`\n- `touch pwned-by-verify`\n- `grep -qx hi greet.txt`",
    )
    ws = make_repo(tmp_path / "ws", spec=spec)
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, "offline")["id"]
    final, seen = _drive(api, rid, lambda a: "deny")
    results = [e["data"] for e in api.events(rid) if e["type"] == "verify.result"]
    by_command = {r["command"]: r for r in results}
    assert "denied by policy" in by_command[f"rm -rf {victim}"]["refused"]
    assert by_command["touch pwned-by-verify"]["refused"].startswith("denied by")
    assert by_command["grep -qx hi greet.txt"]["ok"] is True
    assert by_command["grep -qx hi greet.txt"]["policy"]["action"] == "allow"
    assert [a["preview"]["command"] for a in seen] == ["touch pwned-by-verify"]
    assert victim.is_dir() and not (ws / "pwned-by-verify").exists()
    assert final["status"] in TERMINAL
    api.close()
