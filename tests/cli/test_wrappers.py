"""The bin/ wrappers `make build` writes run from any directory with the project's environment."""

from __future__ import annotations

import subprocess

from tests.cli.conftest import REPO, base_env, ok
from tests.conftest import require_tool


def test_make_build_wrappers_work_from_another_directory(tmp_path):
    require_tool("make")
    # -o setup: the environment exists already (tests run inside it); only the wrappers are built
    build = subprocess.run(["make", "-C", str(REPO), "-o", "setup", "build"], capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert build.returncode == 0, build.stderr
    repo = tmp_path / "elsewhere"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = base_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"))
    env["PATH"] = "/usr/bin:/bin"  # not the venv: the wrapper must bring its own environment

    def wrapper(name: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(REPO / "bin" / name), *args], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    assert "agentctl" in ok(wrapper("agentctl", "--version")).stdout
    ok(wrapper("agentctl", "init"))
    assert (repo / "AGENTS.md").is_file() and (repo / "specs" / "README.md").is_file()
    ok(wrapper("agentctl", "spec", "new", "login"))
    assert (repo / "specs" / "login" / "spec.md").is_file()
    assert "--listen" in ok(wrapper("agentd", "--help")).stdout
    assert ok(wrapper("harness-ls", "check", "specs/")).returncode == 0
