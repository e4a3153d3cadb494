"""Without --workspace, agentctl works on the git repo holding the current folder, as git does:
`cd specs && agentctl run --spec greet/spec.md` ran with `specs/` as the workspace on 92d6935 (the
repo's `.harness/policy.toml` was not found and the acceptance test waited for an approval)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from harness_ls.cli.errors import CliError
from harness_ls.cli.workspace import spec_arg, workspace_arg
from tests.cli.conftest import AGENTCTL, DOCS, DONE, PLAN, WRITE, base_env, ok, script


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "home"
    repo = home / "proj"
    (repo / "specs" / "greet").mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "specs" / "greet" / "spec.md").write_text("# Goal\n")
    return home, repo


def test_the_git_repo_holding_the_folder_is_the_workspace(tmp_path: Path) -> None:
    home, repo = _tree(tmp_path)
    assert workspace_arg(None, cwd=repo / "specs" / "greet", home=home) == repo
    assert workspace_arg(None, cwd=repo, home=home) == repo
    assert workspace_arg("specs", cwd=repo, home=home) != repo  # given: taken as it is


def test_a_dotfiles_repo_in_home_does_not_swallow_the_projects_below(tmp_path: Path) -> None:
    home, repo = _tree(tmp_path)
    (home / ".git").mkdir()
    plain = home / "notes" / "sub"
    plain.mkdir(parents=True)
    assert workspace_arg(None, cwd=plain, home=home) == plain
    assert workspace_arg(None, cwd=home, home=home) == home
    assert workspace_arg(None, cwd=repo / "specs", home=home) == repo


def test_a_workspace_that_is_not_a_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(CliError) as err:
        workspace_arg(str(tmp_path / "nope"))
    assert err.value.message == f"workspace {tmp_path / 'nope'} is not a directory"
    assert err.value.exit_code == 2


def test_a_spec_path_is_read_from_the_folder_inside_the_workspace(tmp_path: Path) -> None:
    _, repo = _tree(tmp_path)
    specs = repo / "specs"
    assert spec_arg("greet/spec.md", repo, cwd=specs) == "specs/greet/spec.md"
    assert spec_arg("specs/greet/spec.md", repo, cwd=specs) == "specs/greet/spec.md"
    assert spec_arg("nope/spec.md", repo, cwd=specs) == "nope/spec.md"  # the error names it
    outside = tmp_path / "elsewhere"
    (outside / "greet").mkdir(parents=True)
    (outside / "greet" / "spec.md").write_text("# Goal\n")
    assert spec_arg("greet/spec.md", repo, cwd=outside) == "greet/spec.md"


def test_run_from_the_specs_folder_runs_on_the_repo(daemon, workspace, tmp_path) -> None:
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    started = ok(daemon.cli("run", "--spec", "greet/spec.md", "--model", model,
                            cwd=workspace / "specs"))  # fmt: skip
    run_id = started.stdout.strip()
    meta = httpx.get(f"{daemon.url}/v1/runs/{run_id}", timeout=10).json()
    assert meta["workspace"] == str(workspace.resolve())
    assert meta["spec_path"] == "specs/greet/spec.md"
    ok(daemon.cli("cancel", run_id, cwd=workspace))


def test_spec_new_from_a_subfolder_writes_into_the_repo(tmp_path: Path) -> None:
    home, ws = tmp_path / "home", tmp_path / "ws"
    home.mkdir()
    (ws / "src" / "pkg").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    env = base_env(home, HARNESS_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run([*AGENTCTL, "spec", "new", "login"], cwd=ws / "src" / "pkg", env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (ws / "specs" / "login" / "spec.md").is_file()
    assert not (ws / "src" / "pkg" / "specs").exists()


def test_run_shows_the_specs_warnings_and_goes_on(daemon, workspace, tmp_path) -> None:
    ok(daemon.cli("spec", "new", "login", cwd=workspace))
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    started = ok(daemon.cli("run", "--spec", "specs/login/spec.md", "--model", model,
                            cwd=workspace))  # fmt: skip
    run_id = started.stdout.strip()
    assert run_id.startswith("run_") and "\n" not in run_id
    warned = [line for line in started.stderr.splitlines() if " warning HLS012 " in line]
    assert warned and all(line.startswith("specs/login/spec.md:") for line in warned), (
        started.stderr
    )
    assert "the run goes on; `harness-ls check specs/login/spec.md` lists them" in started.stderr
    ok(daemon.cli("cancel", run_id, cwd=workspace))
