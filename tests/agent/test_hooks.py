"""Hooks: the user's commands run on events with the event as JSON on stdin, never through a
shell; a failing or hanging hook is a warning on the run, never a failed run."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from harness_ls.agent.hooks import load_hooks
from harness_ls.core import Harness
from harness_ls.errors import InvalidInput
from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE

from .conftest import events, next_approval, script

RECORDER = """import json, os, sys
doc = json.load(sys.stdin)
out = os.environ["HOOK_OUT"]
with open(out, "a") as fh:
    fh.write(json.dumps({"argv": sys.argv[1:], "doc": doc}) + "\\n")
"""


def write_config(data: Path, text: str) -> None:
    data.mkdir(parents=True, exist_ok=True)
    (data / "config.toml").write_text(text)


async def started(data: Path) -> Harness:
    h = Harness(data)
    h.options.update(verify_timeout=30.0)
    await h.start()
    return h


async def wait_for(predicate, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def test_hooks_get_the_event_as_json_on_stdin(repo, tmp_path):
    hook = tmp_path / "recorder.py"
    hook.write_text(RECORDER)
    out = tmp_path / "hook-calls.ndjson"
    data = tmp_path / "data"
    write_config(
        data,
        f"""
[[hooks]]
on = ["approval.requested", "run.completed"]
command = [{json.dumps(sys.executable)}, {json.dumps(str(hook))}, "$(touch pwned)"]
env = {{ HOOK_OUT = {json.dumps(str(out))} }}
""",
    )
    h = await started(data)
    try:
        model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
        meta = await h.start_run(str(repo), "specs/greet/spec.md", model=model)
        approval = await next_approval(h, meta.id)
        await wait_for(lambda: out.exists() and out.read_text().count("\n") >= 1)
        await h.answer_approval(approval.id, "approve", "cli")
        final = await h.wait_run(meta.id, 60)
        assert final.status == "completed", final.outcome
        await wait_for(lambda: out.read_text().count("\n") >= 2)
    finally:
        await h.close()
    calls = [json.loads(line) for line in out.read_text().splitlines()]
    assert [c["doc"]["hook"] for c in calls] == ["approval.requested", "run.completed"]
    # argv is exactly what the config says: nothing is interpolated or run through a shell
    assert all(c["argv"] == ["$(touch pwned)"] for c in calls)
    assert not (tmp_path / "data" / "pwned").exists()
    ask = calls[0]["doc"]
    assert ask["event"]["run_id"] == meta.id and ask["event"]["type"] == "approval.requested"
    assert ask["answer"] == f"agentctl approve --step {approval.id} {meta.id}"
    assert ask["message"].startswith(f"approval needed ({meta.id}): ")
    done = calls[1]["doc"]
    assert done["event"]["data"]["outcome"] == final.outcome
    assert done["message"] == f"run {meta.id} completed: {final.outcome}"


async def test_a_hanging_hook_is_killed_at_its_timeout_and_the_run_completes(repo, tmp_path):
    pidfile = tmp_path / "hook.pid"
    data = tmp_path / "data"
    hang = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    write_config(
        data,
        f"""
[[hooks]]
on = ["run.completed"]
command = [{json.dumps(sys.executable)}, "-c", {json.dumps(hang)}]
timeout = 0.5
""",
    )
    h = await started(data)
    try:
        model = script(tmp_path, PLAN, {"text": "Nothing to do."}, DOCS)
        (repo / "greet.txt").write_text("hello\n")
        meta = await h.start_run(str(repo), "specs/greet/spec.md", model=model)
        final = await h.wait_run(meta.id, 60)
        assert final.status == "completed", final.outcome

        def warned() -> list:
            return [
                e for e in events(h, meta.id) if e.type == "log" and e.data["code"] == "hook.failed"
            ]

        await wait_for(lambda: bool(warned()))
    finally:
        await h.close()
    message = warned()[0].data["message"]
    assert message.endswith("on run.completed failed: timed out after 0.5 s (killed)")
    pid = int(pidfile.read_text())
    await wait_for(lambda: not Path(f"/proc/{pid}").exists(), 5)
    assert h.get_run(meta.id).status == "completed"  # the warning did not change the outcome


async def test_a_failing_hook_is_a_warning_with_its_exit_status(repo, tmp_path):
    data = tmp_path / "data"
    write_config(
        data,
        """
[[hooks]]
on = "run.completed"
command = "sh -c 'echo no route to ntfy >&2; exit 7'"
""",
    )
    h = await started(data)
    try:
        (repo / "greet.txt").write_text("hello\n")
        meta = await h.start_run(str(repo), "specs/greet/spec.md")  # offline: no model needed
        await h.wait_run(meta.id, 60)
        await wait_for(lambda: any(e.data.get("code") == "hook.failed" for e in events(h, meta.id)))
    finally:
        await h.close()
    warn = next(e for e in events(h, meta.id) if e.data.get("code") == "hook.failed")
    assert warn.data["message"].endswith("failed: exit 7: no route to ntfy")


@pytest.mark.parametrize(
    "text,error",
    [
        ('[[hooks]]\non = ["run.done"]\ncommand = ["x"]\n', "unknown event 'run.done'"),
        ('[[hooks]]\non = ["run.completed"]\n', "`command` is missing"),
        ('[[hooks]]\non = ["run.completed"]\ncommand = ["x"]\ntimeout = 0\n', "timeout must be"),
        ("hooks = 3\n", "hooks must be an array of tables"),
        ("[[hooks]\n", "config.toml"),
    ],
)
def test_bad_hook_config_names_the_problem(tmp_path, text, error):
    write_config(tmp_path, text)
    with pytest.raises(InvalidInput, match=error.replace("(", r"\(").replace("[", r"\[")):
        load_hooks(tmp_path)


async def test_a_bad_hook_config_does_not_stop_the_harness(tmp_path, caplog):
    write_config(tmp_path / "data", "[[hooks]]\non = 1\n")
    h = await started(tmp_path / "data")
    await h.close()
    assert "hooks disabled" in caplog.text and os.path.exists(tmp_path / "data" / "config.toml")


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        (
            "approval.requested",
            {"approval_id": "s1", "tool": "mcp__x__rm \u202etxt.exe", "summary": None},
            "approval needed (run_1): mcp__x__rm ⟨U+202E⟩txt.exe",
        ),
        (
            "run.failed",
            {"error": "boom\n\x1b[2Kapproval needed: nothing to do"},
            "run run_1 failed: boom⟨LF⟩⟨ESC⟩[2Kapproval needed: nothing to do",
        ),
    ],
)
def test_a_hooks_message_shows_model_text_as_one_visible_line(name, data, shown):
    """The one-line message a hook forwards to a notification: a model's (or an MCP server's)
    control, bidi and newline characters were passed through (fails on d0bf429)."""
    from harness_ls.agent.hooks import payload
    from harness_ls.store.events import Event

    ev = Event(seq=1, id="e1", ts="2026-01-01T00:00:00Z", type=name, run_id="run_1", data=data)
    assert payload(name, ev)["message"] == shown
