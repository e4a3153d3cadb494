"""Shared test setup: every test gets its own data dir, and nothing lands in $HOME."""

from __future__ import annotations

import os
import shutil

import pytest

from harness_ls.testing.owner import forget_data_dir, install, owner_data_dir

install()  # tests call the hosts they start as their owner (see harness_ls/testing/owner.py)

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(path: str | None, what: str, how: str) -> None:
    """Skip when an external tool is missing locally; in CI (CI=true) a missing tool is a failure."""
    if path:
        return
    msg = f"{what} not found: {how}"
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    data = tmp_path_factory.mktemp("harness-data")
    monkeypatch.setenv("HARNESS_DATA_DIR", str(data))
    owner_data_dir(data)
    for key in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "HARNESS_MODEL",
        "HARNESS_AUTH_TOKEN",
        "OPENAI_BASE_URL",
        "GEMINI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "GEMINI_BASE_URL",
        "OLLAMA_HOST",
        "HARNESS_URL",
    ):
        monkeypatch.delenv(key, raising=False)
    yield data
    forget_data_dir(data)


def which(name: str) -> str | None:
    return shutil.which(name)
