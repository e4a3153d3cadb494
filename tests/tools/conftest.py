"""Real temporary git repositories for the tool tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness_ls.tools import ToolContext


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("template") / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "t@example.com")
    git(ws, "config", "user.name", "Test")
    (ws / ".gitignore").write_text("*.log\nbuild/\n")
    (ws / "README.md").write_text("# Demo\n\nHello world.\n")
    (ws / "src").mkdir()
    (ws / "src" / "app.py").write_text("def greet(name):\n    return 'hi ' + name\n")
    (ws / "docs").mkdir()
    (ws / "docs" / "guide.md").write_text("Guide\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "init")
    return ws


@pytest.fixture
def repo(_template: Path, tmp_path: Path) -> Path:
    """A git repo with a commit, a .gitignore, ignored files, nested dirs and a file outside it."""
    ws = tmp_path / "ws"
    shutil.copytree(_template, ws, symlinks=True)
    (ws / "debug.log").write_text("hello from the log\n")
    (ws / "build").mkdir()
    (ws / "build" / "out.txt").write_text("hello build\n")
    (tmp_path / "outside.txt").write_text("secret outside\n")
    return ws


@pytest.fixture
def ctx(repo: Path) -> ToolContext:
    return ToolContext(workspace=repo, shell_timeout=20)
