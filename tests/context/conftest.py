from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness_ls.context import cache


def git(root: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            p.write_bytes(body)
        else:
            p.write_text(body)


@pytest.fixture(autouse=True)
def _fresh_memory():
    cache.clear_memory()
    yield
    cache.clear_memory()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def repo(tmp_path: Path):
    """A factory: repo(files, git=True) -> workspace path with those files (committed)."""

    def make(files: dict[str, str | bytes], *, use_git: bool = True, name: str = "ws") -> Path:
        root = tmp_path / name
        root.mkdir()
        write(root, files)
        if use_git:
            git(root, "init", "-q")
            git(root, "add", "-A")
            git(root, "commit", "-qm", "init")
        return root

    return make
