"""Sessions over a real agentd whose model is a real fake OpenAI-compatible server process."""

from __future__ import annotations

import io
import json
import zipfile

import httpx

from tests.cli.conftest import ok
from tests.cli.test_runs import Lines

MODEL = "openai:gpt-4.1-mini"  # served by the fake server the daemon's OPENAI_BASE_URL names
VALID_SPEC = (
    "# Goal\n\nA /health endpoint that returns ok.\n\n# Constraints / nuances\n\n- Keep it small.\n\n"
    "# Acceptance tests\n\n- `curl -fs localhost:8000/health`\n"
)


def requests_seen(daemon) -> list[dict]:
    return httpx.get(daemon.fake_url.removesuffix("/v1") + "/_fake/requests", timeout=10).json()


def test_chat_turn_streams_the_reply_and_is_approved_from_another_process(
    daemon, workspace, tmp_path
):
    new = ok(daemon.cli("session", "new", "--workspace", ".", "--model", MODEL, cwd=workspace))
    sid = new.stdout.strip()
    assert sid.startswith("session_")
    daemon.queue_model(
        {"text": "Let me fix it.",
         "tool_calls": [{"name": "write_file", "arguments": {"path": "greet.txt", "content": "hey\n"}}]},
        {"text": "Done: greet.txt now says hey."},
    )  # fmt: skip
    chat = Lines(daemon.popen("session", "message", "--no-input", "--text", "Make greet.txt say hey",
                              sid, cwd=workspace))  # fmt: skip
    chat.wait_for("approval needed")
    call = daemon.wait_approval(sid)["id"]
    chat.wait_for(f"agentctl session approve --call {call} {sid}")
    ok(daemon.cli("session", "approve", "--call", call, sid, cwd=workspace))
    code, out, err = chat.finish()
    assert code == 0, out + err
    assert "Let me fix it." in out and "Done: greet.txt now says hey." in out and "+hey" in out
    assert (workspace / "greet.txt").read_text() == "hey\n"
    assert any(m["content"] == "Make greet.txt say hey" for m in requests_seen(daemon)[-1]["messages"]
               if m["role"] == "user")  # fmt: skip

    (workspace / "notes.txt").write_text("the secret word is banana\n")
    ref = ok(
        daemon.cli("session", "attach", "--file", "notes.txt", sid, cwd=workspace)
    ).stdout.strip()
    assert ref == "attachments/notes.txt"
    daemon.queue_model({"text": "It says banana."})
    events = ok(daemon.cli("session", "message", "--json", "--ref", ref, "--mime", "text/plain",
                           "--text", "What does it say?", sid, cwd=workspace)).stdout  # fmt: skip
    parsed = [json.loads(line) for line in events.splitlines()]
    assert parsed[-1]["type"] == "turn.completed" and parsed[0]["type"] == "user.message"
    assert "banana" in json.dumps(requests_seen(daemon)[-1]["messages"])

    # source files of any extension go up as text: no type is declared unless --mime is given
    for name in ("main.rs", "schema.sql", "run.bat"):
        (workspace / name).write_text("-- some source\n")
        att = json.loads(
            ok(daemon.cli("session", "attach", "--json", "--file", name, sid, cwd=workspace)).stdout
        )
        assert att["ref"] == f"attachments/{name}" and att["mime"].startswith("text/"), att

    listed = json.loads(ok(daemon.cli("session", "list", "--json", cwd=workspace)).stdout)
    assert sid in [s["id"] for s in listed]
    ok(daemon.cli("session", "export", "--out", str(tmp_path / "s.zip"), sid, cwd=workspace))
    names = zipfile.ZipFile(io.BytesIO((tmp_path / "s.zip").read_bytes())).namelist()
    assert "events.ndjson" in names and "attachments/notes.txt" in names


def test_session_bad_input(daemon, workspace):
    spec_mode = daemon.cli("session", "new", "--mode", "spec", cwd=workspace)
    assert spec_mode.returncode == 2 and "--spec" in spec_mode.stderr
    unknown = daemon.cli("session", "message", "--text", "hi", "session_01ABCDEFGHJKMNPQRSTVWXYZ00",
                         cwd=workspace)  # fmt: skip
    assert unknown.returncode == 5
    empty = daemon.cli("session", "message", "session_01ABCDEFGHJKMNPQRSTVWXYZ00", cwd=workspace)
    assert empty.returncode == 2 and "empty" in empty.stderr
    nofile = daemon.cli("session", "attach", "--file", "nope.png", "session_x", cwd=workspace)
    assert nofile.returncode == 2 and "nope.png" in nofile.stderr
    spec = ok(daemon.cli("session", "new", "--mode", "spec", "--spec", "specs/greet/spec.md",
                         "--json", cwd=workspace))  # fmt: skip
    assert json.loads(spec.stdout)["spec_path"] == "specs/greet/spec.md"


def test_spec_prompt_uses_the_fake_openai_server(daemon, workspace):
    daemon.queue_model({"text": VALID_SPEC})
    env = daemon.env(OPENAI_BASE_URL=daemon.fake_url)
    out = ok(daemon.cli("spec", "prompt", "--prompt", "Add a /health endpoint that returns ok",
                        "--model", MODEL, "health", cwd=workspace, env=env))  # fmt: skip
    assert "wrote specs/health/spec.md" in out.stdout and "attempt 1" in out.stdout
    assert (workspace / "specs/health/spec.md").read_text().strip() == VALID_SPEC.strip()
    assert "Add a /health endpoint" in json.dumps(requests_seen(daemon)[-1]["messages"])
