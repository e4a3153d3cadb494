"""Known safe is exact, end to end (issue 31 rows 1, 4, 6's globs, 7 and 10): a real agentd with a
token, the fake OpenAI-compatible server scripted as a hostile model, real git repositories and
real `agentctl init`; every approval is answered Deny. Nothing the exact list does not cover runs:
text bash would evaluate as code, runner options that change what runs under init's trusted
rules, generators, and protected paths reached through a symlink, a glob or `git config`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.e2e.helpers import (
    DOCS,
    TERMINAL,
    Api,
    clean_env,
    make_repo,
    queue,
    start_agentd,
    start_fake,
    wait_for,
)

TOKEN = "tok-e2e-policy-exact-9f8e7d6c5b4a"
PLAN = {"text": '{"steps": [{"title": "Do the thing"}]}'}
SECRET = "sk-live-exact-0123456789"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("exact")
    data = root / "data"
    fake = start_fake(root, default={"text": "nothing more"})
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN,
                    OPENAI_API_KEY="sk-fake-exact", OPENAI_BASE_URL=fake.url)  # fmt: skip
    d = start_agentd(root, data, env=env)
    d.extra.update(data=data, fake=fake, env=env)
    yield d
    d.stop()
    fake.stop()


def _shell(command: str) -> dict[str, Any]:
    return {"name": "shell", "arguments": {"command": command}}


def _run(daemon, ws, mode: str, calls: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """One run in `mode` whose model makes `calls`; every approval denied. (events, approvals)"""
    (daemon.extra["data"] / "policy.toml").write_text(f'mode = "{mode}"\n')
    queue(daemon.extra["fake"].url, PLAN, {"tool_calls": calls}, {"text": "done"}, DOCS)
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, "openai:gpt-4o-mini")["id"]
    seen: list[dict] = []

    def step() -> dict | None:
        for a in api.approvals(rid):
            seen.append(a)
            api.approve(rid, a["id"], "deny")
        m = api.run(rid)
        return m if m["status"] in TERMINAL else None

    wait_for(step, 120, every=0.1, what=f"run {rid} to end")
    events = api.events(rid)
    api.close()
    return events, seen


def _outcomes(events: list[dict]) -> dict[str, list[str]]:
    """command or path -> the event types its call produced."""
    by_id: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for e in events:
        if e["type"] == "tool.call":
            args = e["data"]["arguments"]
            by_id[e["call_id"]] = args.get("command") or args.get("path")
        if e["type"] in ("tool.call", "tool.refused", "tool.result") and e.get("call_id") in by_id:
            out.setdefault(by_id[e["call_id"]], []).append(e["type"])
    return out


def _asked_and_refused(events: list[dict], seen: list[dict], subjects: list[str]) -> None:
    outcomes = _outcomes(events)
    asked = [a["preview"].get("command") or a["preview"].get("path") for a in seen]
    for subject in subjects:
        assert outcomes.get(subject) == ["tool.call", "tool.refused"], (subject, outcomes)
        assert subject in asked, (subject, asked)


def test_text_bash_would_evaluate_never_runs_unasked(daemon, tmp_path):
    """Row 1 by class, in `ask` and in `full-auto`: arithmetic, subscripts, indirection, prompt
    expansion all ask; generators (row 7) and a glob on a secret file (row 6) ask too."""
    ws = make_repo(tmp_path / "ws")
    (ws / ".env.local").write_text(f"API_KEY={SECRET}\n")
    for mode in ("ask", "full-auto"):
        marks = tmp_path / f"marks-{mode}"
        marks.mkdir()
        m = [marks / f"m{i}" for i in range(8)]
        evaluating = [
            f"printf -v x 'a[\\x24(touch {m[0]})]'; test -v 'a[x]'",
            f"x='a[$(touch {m[1]})]'; [[ -v a[x] ]]",
            f"x='a[$(touch {m[2]})]'; (( x ))",
            f"x='$(touch {m[3]})'; echo ${{x@P}}",
            f"x='a[$(touch {m[4]})]'; echo ${{!x}}",
            f"x='a[$(touch {m[5]})]'; read 'a[x]' <<< 1",
            f"x='a[$(touch {m[6]})]'; echo $((x))",
            f"x='a[$(touch {m[7]})]'; declare -i y=x",
        ]
        others = ["seq 1 99999999999", "yes"] if mode == "ask" else []
        secret = ["cat .e*", "grep -r API_KEY ."]
        events, seen = _run(daemon, ws, mode, [_shell(c) for c in evaluating + others + secret])
        _asked_and_refused(events, seen, evaluating + others + secret)
        assert not any(p.exists() for p in m), [p.name for p in m if p.exists()]
        requested = {e["data"]["preview"]["command"]: e["data"]["policy"] for e in events
                     if e["type"] == "approval.requested"}  # fmt: skip
        assert ".env.local" in requested["cat .e*"]["rule"], requested["cat .e*"]
        for command in evaluating:  # the part bash would evaluate is named as such
            rules = [p["rule"] for p in requested[command]["parts"]]
            assert any("before it runs: evaluates" in r or "evaluates" in r for r in rules), rules
        assert SECRET not in repr(events)


def test_init_rules_never_cover_options_that_change_what_runs(daemon, tmp_path):
    """Row 4: `agentctl init` writes and trusts its policy; the hostile model then uses the
    allowed runners with options that run its own code. Each asks; a plain run does not."""
    ws = make_repo(tmp_path / "ws")
    env = {**daemon.extra["env"], "HARNESS_URL": daemon.url}
    subprocess.run([sys.executable, "-m", "harness_ls.cli.agentctl", "init", "--workspace",
                    str(ws)], env=env, check=True, capture_output=True, timeout=60)  # fmt: skip
    marks = tmp_path / "marks"
    marks.mkdir()
    m = [marks / f"m{i}" for i in range(8)]
    (ws / "evil.mk").write_text(f"test:\n\ttouch {m[1]}\n")
    (ws / "evil.sh").write_text(f"#!/bin/sh\ntouch {m[3]}\n")
    os.chmod(ws / "evil.sh", 0o755)
    (ws / "package.json").write_text('{"scripts": {"test": "true"}}\n')
    (ws / "evil_plugin.py").write_text(f"open({str(m[4])!r}, 'w').close()\n")
    hostile = [
        f"make test --eval='x:=$(shell touch {m[0]})'",
        "make test -f evil.mk",
        f"make test SHELL=/bin/sh .SHELLFLAGS='-c touch\\ {m[2]};true'",
        "npm test --script-shell=./evil.sh",
        "pytest -p evil_plugin --co -q",
        f"python3 -m pytest -c {tmp_path}/elsewhere.ini",
        f"go test -exec 'sh -c \"touch {m[5]}\"' ./...",
        f"cargo test --config 'target.x86_64-unknown-linux-gnu.runner=\"touch {m[6]}\"'",
        f"npm test --node-options='--require=./evil_plugin.js' -- --x={m[7]}",
    ]
    events, seen = _run(daemon, ws, "ask", [_shell(c) for c in [*hostile, "make test -k -s"]])
    _asked_and_refused(events, seen, hostile)
    assert not any(p.exists() for p in m), [p.name for p in m if p.exists()]
    calls = {e["data"]["arguments"]["command"]: e["data"] for e in events
             if e["type"] == "tool.call"}  # fmt: skip
    assert calls["make test -k -s"]["action"] == "allow"  # the trusted rule itself still works
    assert "does not cover '--eval'" in calls[hostile[0]]["rule"]


def test_protected_paths_reached_by_indirection_ask_in_full_auto(daemon, tmp_path):
    """Row 10: a symlink to .harness, globs onto .git/config, `git config core.fsmonitor`: in
    full-auto each still asks, and denied, nothing changes."""
    ws = make_repo(tmp_path / "ws")
    os.symlink(".harness", ws / "h")
    (ws / "evil.cfg").write_text("[core]\n\tfsmonitor = touch pwned\n")
    git_config = (ws / ".git" / "config").read_bytes()
    grant = '[allow]\nshell = ["*"]\n'
    write = {"name": "write_file", "arguments": {"path": "h/policy.toml", "content": grant}}
    commands = [
        "git config core.fsmonitor 'touch pwned'",
        "cp evil.cfg .gi?/config",
        "sed -i 's/bare/fsmonitor = touch pwned\\n\\tbare/' .g*/config",
        "echo 'mode = \"full-auto\"' >> h/policy.toml",
        "cp evil.cfg h/policy.toml",
    ]
    events, seen = _run(daemon, ws, "full-auto", [write, *[_shell(c) for c in commands]])
    _asked_and_refused(events, seen, commands)
    assert _outcomes(events)["h/policy.toml"] == ["tool.call", "tool.refused"]
    assert seen[0]["preview"]["path"] == ".harness/policy.toml"  # the approval shows the target
    assert (ws / ".git" / "config").read_bytes() == git_config
    assert not (ws / ".harness").exists() and not (ws / "pwned").exists()
    requested = [e["data"]["policy"] for e in events if e["type"] == "approval.requested"]
    assert requested[0]["protected"] == "h/policy.toml"
    assert ".harness/policy.toml" in requested[0]["rule"]
    assert ".git/config" in requested[2]["rule"]
