"""The workspace's AGENTS.md goes into every system prompt, read outside every tool — end to end
with a real agentd (token auth, mode ask) and the fake OpenAI server as the model.

A cloned repository's `AGENTS.md -> .env` put the user's `.env` into the prompt of every chat
turn and every run (fails on ac122d8: the model server received the value); `-> /dev/zero` would
fill the daemon's memory and `-> /dev/stdin` or a FIFO hang it. AGENTS.md is now read only as a
tool would read it unasked: a regular file inside the workspace, no secret file, bounded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import Api, make_repo, queue, scripted_agentd, wait_for

TOKEN = "tok-e2e-instructions-1f2e3d4c5b6a"
SECRET = "hunter2-agents-md-secret-R4T5Y6"
MODEL = "openai:gpt-4o-mini"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("instructions"), TOKEN, "ask") as d:
        yield d


def _received(daemon) -> list[dict]:
    base = daemon.extra["fake"].url.removesuffix("/v1")
    return httpx.get(f"{base}/_fake/requests", timeout=10).json()


def _chat_turn(daemon, ws: Path) -> dict:
    """One chat turn in `ws`; the last request the model server received."""
    api = Api(daemon.url, TOKEN)
    sid = api.post("/v1/sessions", {"workspace": str(ws), "model": MODEL})["id"]
    queue(daemon.extra["fake"].url, {"text": "ok"})
    n = len(_received(daemon))
    api.post(f"/v1/sessions/{sid}/messages", {"text": "hello"}, status=202)

    def done() -> list[dict] | None:
        evs = api.events(sid, "sessions")
        return evs if any(e["type"] == "turn.completed" for e in evs) else None

    events = wait_for(done, 60, what="the turn to end")
    api.close()
    assert next(e for e in events if e["type"] == "turn.completed")["data"]["ok"] is True
    sent = _received(daemon)[n:]
    assert len(sent) == 1
    return sent[0]


def _system(request: dict) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "system")


ENV = "it is .env, an environment file that may hold secrets"


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (".env", ENV),
        ("../ws/.env", ENV),
        ("/dev/zero", "it leads outside the workspace (to /dev/zero)"),
        ("pipe", "it is not a regular file"),
    ],
)
def test_agents_md_that_is_a_link_to_a_secret_or_a_device_is_not_read(
    daemon, tmp_path: Path, target: str, why: str
) -> None:
    ws = make_repo(tmp_path / "ws")
    (ws / ".env").write_text(f"DB_PASSWORD={SECRET}\n")
    os.mkfifo(ws / "pipe")  # e.g. left by a command the agent ran; opening it would block
    os.symlink(target, ws / "AGENTS.md")
    request = _chat_turn(daemon, ws)
    assert SECRET not in json.dumps(request)
    assert "Project instructions" not in _system(request)
    assert f"AGENTS.md in {ws} not read: {why}" in daemon.stderr()


def test_a_regular_agents_md_still_reaches_the_model(daemon, tmp_path: Path) -> None:
    ws = make_repo(tmp_path / "ws")
    (ws / "AGENTS.md").write_text("Run the tests with `make check`.\n")
    request = _chat_turn(daemon, ws)
    assert _system(request).endswith(
        "Project instructions (AGENTS.md):\nRun the tests with `make check`."
    )
