"""Which repository a workspace is in, as harness_ls.gitrun decides it (never git's discovery):
a plain directory stays plain whatever files appear in it, a `.git` file or symlink may not lead
back into the workspace, linked worktrees and submodules still work, another user's repository
is refused like git refuses it, and the caller's GIT_* variables change nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness_ls.gitrun import (
    NoRepository,
    NotAGitRepo,
    UnsafeRepository,
    find_repo,
    repo_or_none,
    workspace_git,
)
from harness_ls.testing.hostile_git import bare_layout_config, fired
from tests.conftest import require_capability


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always",
         *args], cwd=cwd, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    (path / "a.txt").write_text("a\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "init")
    return path


def test_a_plain_directory_is_no_repository(tmp_path: Path) -> None:
    with pytest.raises(NoRepository, match="not inside a git work tree"):
        find_repo(tmp_path)
    assert repo_or_none(tmp_path) is None


def test_a_bare_layout_written_into_a_plain_directory_is_no_repository(tmp_path: Path) -> None:
    """Row 5 of issue 31: HEAD, config (core.worktree = ., core.fsmonitor...), objects/, refs/
    at the root. git itself takes it for a repository with a work tree; we do not."""
    ws, markers = tmp_path / "ws", tmp_path / "markers"
    ws.mkdir()
    (ws / "HEAD").write_text("ref: refs/heads/main\n")
    (ws / "config").write_text(bare_layout_config(markers))
    for d in ("objects", "refs/heads"):
        (ws / d).mkdir(parents=True)
    proc = subprocess.run(["git", "status"], cwd=ws, capture_output=True, text=True)
    assert "not a git repository" not in proc.stderr  # armed: plain git takes it for a repo
    fired_by_plain_git = fired(markers)
    assert fired_by_plain_git, proc.stderr
    shutil.rmtree(markers)
    with pytest.raises(NoRepository):
        find_repo(ws)
    with pytest.raises(NoRepository):
        workspace_git(ws)
    assert fired(markers) == []


def test_a_subdirectory_of_a_repository_finds_it(tmp_path: Path) -> None:
    root = repo(tmp_path / "r")
    (root / "pkg").mkdir()
    loc = find_repo(root / "pkg")
    assert (loc.work_tree, loc.git_dir, loc.common_dir) == (root, root / ".git", root / ".git")
    out = workspace_git(root / "pkg").run("ls-files", "-co", "--exclude-standard")
    assert out.returncode == 0


def test_a_gitdir_file_into_the_workspace_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "evil").mkdir()
    (ws / "evil" / "HEAD").write_text("ref: refs/heads/main\n")
    (ws / "evil" / "objects").mkdir()
    (ws / "evil" / "refs").mkdir()
    (ws / ".git").write_text("gitdir: evil\n")
    with pytest.raises(UnsafeRepository, match="inside the workspace"):
        find_repo(ws)
    assert repo_or_none(ws) is None


def test_a_git_symlink_into_the_workspace_is_refused_and_one_outside_is_followed(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    inner = repo(ws / "inner")
    (ws / ".git").symlink_to(inner / ".git")
    with pytest.raises(UnsafeRepository):
        find_repo(ws)
    other = repo(tmp_path / "other")
    (ws / ".git").unlink()
    (ws / ".git").symlink_to(other / ".git")
    loc = find_repo(ws)
    assert (loc.work_tree, loc.git_dir) == (ws, other / ".git")


def test_a_commondir_into_the_workspace_is_refused(tmp_path: Path) -> None:
    ws = repo(tmp_path / "ws")
    shadow_common = ws / "common"
    shutil.copytree(ws / ".git", shadow_common)
    (ws / ".git" / "commondir").write_text("../common\n")
    with pytest.raises(UnsafeRepository, match="common git directory"):
        find_repo(ws)


def test_a_broken_gitdir_file_says_what_is_wrong(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".git").write_text("not a gitdir line\n")
    with pytest.raises(NotAGitRepo, match="is not a gitdir file"):
        find_repo(ws)
    (ws / ".git").write_text(f"gitdir: {tmp_path / 'nowhere'}\n")
    with pytest.raises(NotAGitRepo, match="not a git directory"):
        find_repo(ws)


def test_linked_worktree_and_submodule_work(tmp_path: Path) -> None:
    main = repo(tmp_path / "main")
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "side")
    loc = find_repo(tmp_path / "wt")
    assert loc.git_dir == main / ".git" / "worktrees" / "wt" and loc.common_dir == main / ".git"
    (tmp_path / "wt" / "a.txt").write_text("changed\n")
    out = workspace_git(tmp_path / "wt").run("status", "--porcelain", "-b").stdout.decode()
    assert "## side" in out and " M a.txt" in out

    lib = repo(tmp_path / "lib")
    git(main, "submodule", "add", "-q", str(lib), "lib")
    sub = main / "lib"
    loc = find_repo(sub)
    assert loc.work_tree == sub and loc.git_dir == main / ".git" / "modules" / "lib"
    assert workspace_git(sub).run("rev-parse", "HEAD").returncode == 0


def test_callers_git_environment_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    ws = repo(tmp_path / "ws")
    other = repo(tmp_path / "other")
    (other / "only-in-other.txt").write_text("x\n")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "two")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.fsmonitor'='touch /tmp/x'")
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "false")
    listed = workspace_git(ws).run("ls-files").stdout.decode().split()
    assert listed == ["a.txt"]


def test_another_users_repository_is_refused_like_git_refuses_it(tmp_path: Path) -> None:
    require_capability(
        os.geteuid() == 0, "root to hand a repository to another user", "run as root (CI is)"
    )
    ws = repo(tmp_path / "ws")
    subprocess.run(["chown", "-R", "65534:65534", str(ws)], check=True)
    with pytest.raises(NotAGitRepo, match="owned by another user") as err:
        find_repo(ws)
    assert err.value.hint == f"git config --global --add safe.directory {ws}"
