"""The config shim: git reads the real repository's objects, refs and index through it, takes
its data settings (object format, file mode...), never its programs, follows a config change,
writes through it where the harness writes (a deleted ref leaves the real packed-refs), and the
runner's flags and environment are what the docstrings say."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness_ls.gitrun import SAFE_CONFIG, config_shim, find_repo, own_git, workspace_git
from harness_ls.gitrun.runner import split_args


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          capture_output=True, text=True, check=True).stdout  # fmt: skip


def repo(path: Path, *init: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main", *init)
    (path / "a.txt").write_text("a\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "init")
    return path


def test_the_shim_holds_our_config_and_links_the_rest(tmp_path: Path) -> None:
    ws = repo(tmp_path / "ws")
    git(ws, "config", "core.fsmonitor", "touch /tmp/never")
    git(ws, "config", "core.fileMode", "false")
    shim = config_shim(find_repo(ws).common_dir)
    text = (shim / "config").read_text()
    assert "filemode = false" in text and "fsmonitor" not in text
    assert os.readlink(shim / "objects") == str(ws / ".git" / "objects")
    assert oct((shim / "config").stat().st_mode & 0o777) == "0o600"
    assert oct(shim.stat().st_mode & 0o777) == "0o700"


def test_a_changed_config_is_read_again(tmp_path: Path) -> None:
    ws = repo(tmp_path / "ws")
    shim = config_shim(find_repo(ws).common_dir)
    assert "ignorecase" not in (shim / "config").read_text()
    git(ws, "config", "core.ignoreCase", "true")
    assert config_shim(find_repo(ws).common_dir) == shim
    assert "ignorecase = true" in (shim / "config").read_text()


def test_sha256_repository(tmp_path: Path) -> None:
    ws = repo(tmp_path / "ws", "--object-format=sha256")
    head = workspace_git(ws).run("rev-parse", "HEAD").stdout.decode().strip()
    assert len(head) == 64 and head == git(ws, "rev-parse", "HEAD").strip()


def test_relative_alternates_and_shallow_history(tmp_path: Path) -> None:
    base = repo(tmp_path / "base")
    for i in range(3):
        (base / "a.txt").write_text(f"{i}\n")
        git(base, "commit", "-qam", f"c{i}")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--shared", str(base), str(clone))
    (clone / ".git" / "objects" / "info" / "alternates").write_text("../../../base/.git/objects\n")
    out = workspace_git(clone).run("log", "--format=%s")
    assert out.stdout.decode().split() == ["c2", "c1", "c0", "init"], out.stderr
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{base}", str(shallow))
    out = workspace_git(shallow).run("log", "--format=%s")
    assert out.returncode == 0 and out.stdout.decode().split() == ["c2"], out.stderr


def test_a_ref_deleted_through_the_shim_leaves_the_real_packed_refs(tmp_path: Path) -> None:
    ws = repo(tmp_path / "ws")
    git(ws, "update-ref", "refs/harness/old/0", "HEAD")
    git(ws, "pack-refs", "--all")
    assert "refs/harness/old/0" in (ws / ".git" / "packed-refs").read_text()
    workspace_git(ws).run("update-ref", "-d", "refs/harness/old/0")
    assert "refs/harness/old/0" not in (ws / ".git" / "packed-refs").read_text()
    assert git(ws, "show-ref").count("refs/") == 1  # main only; the real repo agrees


def test_flags_are_injected_after_the_subcommand() -> None:
    assert split_args(("-c", "x.y=1", "diff", "HEAD")) == (
        ["-c", "x.y=1"],
        ["diff", "--no-ext-diff", "--no-textconv", "--ignore-submodules=dirty", "HEAD"],
    )
    assert split_args(("status", "--porcelain"))[1] == [
        "status", "--ignore-submodules=dirty", "--porcelain"]  # fmt: skip
    assert split_args(("ls-files", "-z"))[1] == ["ls-files", "-z"]
    for bad in (("-C", "/elsewhere", "status"), ("--git-dir=/x", "log"), ("--exec-path=/x",)):
        with pytest.raises(ValueError, match="global git option"):
            split_args(bad)


def test_our_config_wins_over_the_callers(tmp_path: Path) -> None:
    argv = own_git(tmp_path).argv("-c", "core.fsmonitor=/bin/evil", "status")
    last = max(i for i, a in enumerate(argv) if a.startswith("core.fsmonitor="))
    assert argv[last] == "core.fsmonitor=false"
    assert ("core.hooksPath", "/dev/null") in SAFE_CONFIG and argv[1] == "--no-pager"


def test_the_environment_is_built_not_inherited(tmp_path: Path, monkeypatch) -> None:
    for key in ("GIT_DIR", "GIT_EXEC_PATH", "GIT_SSH_COMMAND", "GIT_TRACE", "PAGER", "EDITOR"):
        monkeypatch.setenv(key, "/bin/evil")
    env = own_git(tmp_path).env({"GIT_DIR": "/elsewhere", "GIT_INDEX_FILE": "/x/index"})
    assert not {"GIT_DIR", "GIT_EXEC_PATH", "GIT_SSH_COMMAND", "GIT_TRACE", "EDITOR"} & set(env)
    assert env["PAGER"] == "cat" and env["GIT_INDEX_FILE"] == "/x/index"
    assert env["GIT_CONFIG_GLOBAL"] == env["GIT_CONFIG_SYSTEM"] == "/dev/null"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_NO_REPLACE_OBJECTS"] == "1"
    assert env["GIT_CEILING_DIRECTORIES"] == str(tmp_path.parent)


def test_the_users_global_ignore_rules_still_apply(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "ignores").write_text("*.secret-ignored\n")
    (home / ".gitconfig").write_text(f"[core]\n\texcludesFile = {home / 'ignores'}\n"
                                     "[core]\n\tpager = touch /tmp/never-global\n")  # fmt: skip
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    ws = repo(tmp_path / "ws")
    (ws / "x.secret-ignored").write_text("x\n")
    (ws / "shown.txt").write_text("y\n")
    out = workspace_git(ws).run("ls-files", "-o", "--exclude-standard").stdout.decode()
    assert out.split() == ["shown.txt"]


def test_a_shim_directory_someone_else_could_write_is_not_used(tmp_path: Path, monkeypatch) -> None:
    """The shared directory sits in a world-writable temp dir: one made by another user (or
    left group/world-writable) would let them write our config; a private one is used instead."""
    import tempfile

    from harness_ls.gitrun import shim

    planted = tmp_path / f"harness-ls-git-{os.geteuid()}"
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(shim, "_ROOT", [])
    monkeypatch.setattr(shim, "_STAMPS", {})
    ws = repo(tmp_path / "ws")
    used = config_shim(find_repo(ws).common_dir)
    assert planted not in used.parents and (used.parent.stat().st_mode & 0o077) == 0
    planted.chmod(0o700)
    monkeypatch.setattr(shim, "_ROOT", [])
    assert config_shim(find_repo(ws).common_dir).parent == planted
