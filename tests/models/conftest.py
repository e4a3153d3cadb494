"""Fixtures for the models tests: real fake servers on loopback and a clean model environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness_ls.models import HttpSettings
from harness_ls.testing.fake_models import FakeAnthropicServer, FakeOpenAIServer

MODEL_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
             "OLLAMA_HOST", "GEMINI_API_KEY", "GEMINI_BASE_URL", "HARNESS_MODEL", "HARNESS_MODEL_TIMEOUT", "HARNESS_MODEL_RETRIES",
             "HARNESS_MODEL_MAX_WAIT")  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No model variables from the developer's shell; an empty data dir. Returns that dir."""
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HARNESS_DATA_DIR", str(data))
    return data


@pytest.fixture
def fast() -> HttpSettings:
    """Retries without long sleeps (Retry-After is still honoured)."""
    return HttpSettings(backoff_base=0.01, max_backoff=0.05, read_timeout=10, connect_timeout=2)


@pytest.fixture(scope="module")
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(api_key="sk-ant-test-key-123456") as srv:
        yield srv


@pytest.fixture
def oai(openai_server: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The shared OpenAI fake with an empty queue and no recorded requests."""
    openai_server.queue.clear()
    openai_server.requests.clear()
    openai_server.headers.clear()
    yield openai_server
    assert not openai_server.queue, "test left scripted responses unused"


@pytest.fixture
def ant(anthropic_server: FakeAnthropicServer) -> Iterator[FakeAnthropicServer]:
    anthropic_server.queue.clear()
    anthropic_server.requests.clear()
    anthropic_server.headers.clear()
    yield anthropic_server
    assert not anthropic_server.queue, "test left scripted responses unused"


def env_without_models() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in MODEL_ENV}
