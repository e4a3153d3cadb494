"""The parsed git log is saved per HEAD: a new process skips `git log`, and a moved HEAD, a
deepened shallow clone or a damaged file gives a fresh log, never a stale or failed one."""

from __future__ import annotations

import subprocess

import pytest

from harness_ls.context import history
from harness_ls.context.history import _saved_path, clear_memory, load_history

from .conftest import git, write


@pytest.fixture
def three_commits(repo):
    root = repo({"src/a.py": "def alpha():\n    return 1\n"})
    for i, msg in enumerate(["freight surcharge for bulky parcels", "tax rounding per line"]):
        write(root, {f"src/m{i}.py": f"def m{i}():\n    return {i}\n"})
        git(root, "add", "-A")
        git(root, "commit", "-qm", msg)
    return root


def _no_git_log(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("git log was run: the saved history was not used")

    monkeypatch.setattr(history, "_from_git", refuse)


def test_a_new_process_reads_the_saved_log_instead_of_git(three_commits, data_dir, monkeypatch):
    first = load_history(three_commits, data_dir=data_dir)
    assert len(first.files) == 3 and _saved_path(data_dir, three_commits).exists()
    clear_memory()  # as a new process
    _no_git_log(monkeypatch)
    again = load_history(three_commits, data_dir=data_dir)
    assert again.files == first.files and again.touched == first.touched
    assert history.similar_commit_files(again, ["freight"]) == {"src/m0.py": 1.0}


def test_a_new_commit_gives_a_fresh_log(three_commits, data_dir):
    load_history(three_commits, data_dir=data_dir)
    write(three_commits, {"src/late.py": "def late():\n    return 0\n"})
    git(three_commits, "add", "-A")
    git(three_commits, "commit", "-qm", "late arrival")
    clear_memory()
    hist = load_history(three_commits, data_dir=data_dir)
    assert len(hist.files) == 4 and hist.files[0] == ["src/late.py"]


def test_a_deepened_shallow_clone_gives_a_fresh_log(three_commits, tmp_path, data_dir):
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{three_commits}", str(shallow)], check=True
    )
    assert load_history(shallow, data_dir=data_dir).empty  # one commit is no history
    subprocess.run(["git", "fetch", "-q", "--deepen=2"], cwd=shallow, check=True)
    clear_memory()  # same HEAD, more history
    assert len(load_history(shallow, data_dir=data_dir).files) == 3


@pytest.mark.parametrize("damage", [b"", b"\x00garbage", None])
def test_a_damaged_or_foreign_saved_log_is_rebuilt(three_commits, data_dir, damage):
    first = load_history(three_commits, data_dir=data_dir)
    path = _saved_path(data_dir, three_commits)
    if damage is None:
        path.chmod(0o666)  # writable by others: not trusted
    else:
        path.write_bytes(damage)
    clear_memory()
    assert load_history(three_commits, data_dir=data_dir).files == first.files


def test_no_commits_means_no_history_and_nothing_saved(repo, data_dir):
    root = repo({"a.py": "x = 1\n"}, use_git=False)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    hist = load_history(root, data_dir=data_dir)
    assert hist.empty and "no git history" in hist.note
    assert not _saved_path(data_dir, root).exists()
