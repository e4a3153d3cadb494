"""Fixtures for runtime tests: real temporary git repos, a Harness over a temp data dir, no model env."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness_ls.core import Harness
from harness_ls.testing.greet import SPEC

MODEL_ENV = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HARNESS_MODEL", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
    "OLLAMA_HOST", "OLLAMA_BASE_URL", "HARNESS_AUTH_TOKEN", "OPENROUTER_API_KEY", "GROQ_API_KEY",
)  # fmt: skip


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(autouse=True)
def no_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env.local from the developer's cwd
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    ws = tmp_path / "repo"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "t@example.com")
    git(ws, "config", "user.name", "Test")
    (ws / "greet.txt").write_text("hi\n")
    spec = ws / "specs" / "greet" / "spec.md"
    spec.parent.mkdir(parents=True)
    spec.write_text(SPEC)
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "init")
    return ws


@pytest.fixture
async def harness(tmp_path: Path):
    h = Harness(tmp_path / "data")
    h.options.update(verify_timeout=30.0)
    await h.start()
    yield h
    await h.close()


def script(tmp_path: Path, *responses: dict[str, Any]) -> str:
    """A scripted-provider model name for these responses."""
    path = tmp_path / f"script-{len(list(tmp_path.glob('script-*')))}.json"
    path.write_text(json.dumps({"responses": list(responses)}))
    return f"scripted:{path}"


def events(h: Harness, run_id: str, kind: str = "run") -> list[Any]:
    return list(h.store.reader(kind, run_id).read())


def types(h: Harness, run_id: str, kind: str = "run") -> list[str]:
    return [e.type for e in events(h, run_id, kind)]


async def next_approval(h: Harness, owner_id: str, within: float = 10.0) -> Any:
    """Wait until the owner has a pending approval (through the broker's subscription)."""

    async def wait() -> Any:
        async for change in h.subscribe_approvals():
            a = change.approval
            if change.kind == "requested" and a.owner_id == owner_id and a.status == "pending":
                return a

    return await asyncio.wait_for(wait(), within)


class ModelUnderTest:
    """Queues responses for one test's model and names it: the scripted provider, or the real
    fake OpenAI server over HTTP (same response shape for both)."""

    def __init__(self, kind: str, tmp_path: Path, server: Any = None) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.server = server

    def __call__(self, *responses: dict[str, Any]) -> str:
        if self.server is None:
            return script(self.tmp_path, *responses)
        self.server.push(*responses)
        return "openai:gpt-4.1"

    def requests(self) -> int | None:
        return len(self.server.requests) if self.server is not None else None


@pytest.fixture(params=["scripted", "openai-http"])
def model(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if request.param == "scripted":
        yield ModelUnderTest("scripted", tmp_path)
        return
    from harness_ls.testing.fake_models import FakeOpenAIServer

    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        yield ModelUnderTest("openai-http", tmp_path, srv)
