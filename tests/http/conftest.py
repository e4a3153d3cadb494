"""Fixtures: a real Harness on a temp data dir, served by real uvicorn on an ephemeral port."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from harness_ls.http.app import create_app
from harness_ls.http.server import Sidecar, start_server
from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE  # noqa: F401 - re-exported to the tests here

TOKEN = "test-token-0123456789abcdef"
MODEL_ENV = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HARNESS_MODEL", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
    "OLLAMA_HOST", "OLLAMA_BASE_URL", "HARNESS_AUTH_TOKEN", "OPENROUTER_API_KEY", "GROQ_API_KEY",
)  # fmt: skip


def script(tmp_path: Path, *responses: dict) -> str:
    """A `scripted:<path>` model name that answers with these responses in order."""
    path = tmp_path / f"script-{len(list(tmp_path.glob('script-*')))}.json"
    path.write_text(json.dumps({"responses": list(responses)}))
    return f"scripted:{path}"


@pytest.fixture(autouse=True)
def no_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A real git repo with a valid spec."""
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    subprocess.run(["git", "-C", str(ws), "config", "user.email", "t@example.com"], check=True)
    subprocess.run(["git", "-C", str(ws), "config", "user.name", "t"], check=True)
    spec = ws / "specs" / "greet" / "spec.md"
    spec.parent.mkdir(parents=True)
    spec.write_text(
        "# Goal\n\nMake greet.txt say hello instead of hi.\n\n# Constraints / nuances\n\n"
        "- Only touch greet.txt.\n\n# Acceptance tests\n\n- `grep -qx hello greet.txt`\n"
    )
    (ws / "greet.txt").write_text("hi\n")
    subprocess.run(["git", "-C", str(ws), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(ws), "commit", "-qm", "init"], check=True)
    return ws


@pytest.fixture
async def harness(tmp_path: Path):
    from harness_ls.core import Harness

    h = Harness(tmp_path / "data")
    h.options.update(verify_timeout=30.0)
    await h.start()
    yield h
    await h.close()


@pytest.fixture
async def serve(harness):
    """Factory: `await serve(token=..., allowed_hosts=...)` → a running Sidecar."""
    running: list[Sidecar] = []

    async def make(**kw) -> Sidecar:
        kw.setdefault("keepalive", 0.2)
        app = create_app(harness, **kw)
        sc = await start_server(app, "127.0.0.1", 0, graceful_timeout=1.0)
        running.append(sc)
        return sc

    yield make
    for sc in running:
        await sc.stop()


@pytest.fixture
async def server(serve):
    return await serve()


@pytest.fixture
async def client(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        yield c
