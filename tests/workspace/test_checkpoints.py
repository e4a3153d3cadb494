"""Checkpoints, diff, revert and gc on real git repositories in temp dirs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness_ls.errors import InvalidInput, NotFound
from harness_ls.workspace.checkpoints import checkpoint, diff, finalize, list_checkpoints, list_runs
from harness_ls.workspace.gc import gc, parse_age
from harness_ls.workspace.git import GitLocked, NotAGitRepo
from harness_ls.workspace.revert import revert

FIVE = "one\ntwo\nthree\nfour\nfive\n"


def git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, *, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "user@example.com")
    git(path, "config", "user.name", "User")
    if commit:
        (path / "a.txt").write_text(FIVE)
        (path / ".gitignore").write_text("*.log\n")
        git(path, "add", ".")
        git(path, "commit", "-qm", "init")
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def user_state(ws: Path) -> dict[str, str]:
    index = (ws / ".git" / "index").read_bytes() if (ws / ".git" / "index").exists() else b""
    return {
        "index": index.hex(),
        "head": git(ws, "rev-parse", "-q", "--verify", "HEAD")
        if (ws / ".git" / "refs" / "heads").exists()
        else "",
        "symref": subprocess.run(
            ["git", "symbolic-ref", "-q", "HEAD"], cwd=ws, capture_output=True, text=True
        ).stdout,
        "stash": git(ws, "stash", "list"),
        "branches": git(ws, "branch", "-a"),
    }


def agent_run(ws: Path, run_id: str = "run_1") -> None:
    """Two steps: step 0 edits a.txt line 2 and creates new.py; step 1 deletes u.txt."""
    checkpoint(ws, run_id, 0, "before step 0")
    (ws / "a.txt").write_text((ws / "a.txt").read_text().replace("two", "AGENT-TWO"))
    (ws / "new.py").write_text("print('agent')\n")
    checkpoint(ws, run_id, 1)
    (ws / "u.txt").unlink()
    finalize(ws, run_id)


def test_checkpoint_leaves_index_head_branch_and_stash_untouched(ws):
    (ws / "a.txt").write_text(FIVE + "staged\n")
    git(ws, "add", "a.txt")
    (ws / "a.txt").write_text(FIVE + "staged\nunstaged\n")
    (ws / "s.txt").write_text("stash me\n")
    git(ws, "stash", "push", "-q", "--include-untracked", "--", "s.txt")
    (ws / "u.txt").write_text("untracked\n")
    (ws / "x.log").write_text("ignored\n")
    before, status = user_state(ws), git(ws, "status", "--porcelain")
    cp = checkpoint(ws, "run_1", 0)
    assert user_state(ws) == before and git(ws, "status", "--porcelain") == status
    files = git(ws, "ls-tree", "-r", "--name-only", cp.commit).split()
    assert "u.txt" in files and "x.log" not in files  # untracked in, .gitignore respected
    assert git(ws, "show", f"{cp.commit}:a.txt").endswith(
        "unstaged\n"
    )  # the working tree, not the index
    assert cp.dirty and cp.branch == "main" and cp.head == git(ws, "rev-parse", "HEAD").strip()
    assert cp.dirty_paths == ["a.txt", "u.txt"]
    assert list_checkpoints(ws, "run_1")[0].model_dump() == cp.model_dump()
    assert git(ws, "rev-parse", "refs/harness/run_1/0").strip() == cp.commit


def test_diff_shows_exactly_the_agent_changes_per_run_and_per_step(ws):
    (ws / "u.txt").write_text("user file\n")
    (ws / "a.txt").write_text(
        FIVE.replace("five", "user-five")
    )  # dirty before the run: not in the diff
    agent_run(ws)
    whole = diff(ws, "run_1")
    assert "+AGENT-TWO" in whole and "new.py" in whole and "deleted file mode" in whole
    assert (
        "-user-five" not in whole and "+user-five" not in whole
    )  # the user's edit is not the agent's
    step0 = diff(ws, "run_1", 0)
    assert "+AGENT-TWO" in step0 and "u.txt" not in step0
    step1 = diff(ws, "run_1", 1)
    assert "u.txt" in step1 and "AGENT-TWO" not in step1
    assert [c.name for c in list_checkpoints(ws, "run_1")] == ["0", "1", "final"]
    assert list_runs(ws) == ["run_1"]


def test_revert_undoes_only_the_agent_changes(ws):
    (ws / "u.txt").write_text("user file\n")
    agent_run(ws)
    report = revert(ws, "run_1")
    assert report.ok and report.applied, report.summary()
    assert (ws / "a.txt").read_text() == FIVE
    assert not (ws / "new.py").exists()
    assert (ws / "u.txt").read_text() == "user file\n"
    assert report.safety_ref and report.safety_ref.startswith("refs/harness/run_1/pre-revert-")
    assert revert(ws, "run_1").files[0].action == "unchanged"  # twice is harmless


def test_revert_keeps_user_edits_made_after_the_agent_with_a_three_way_merge(ws):
    (ws / "u.txt").write_text("user file\n")
    agent_run(ws)
    (ws / "a.txt").write_text(FIVE.replace("two", "AGENT-TWO").replace("five", "USER-FIVE"))
    report = revert(ws, "run_1")
    assert report.ok and report.applied
    assert (ws / "a.txt").read_text() == FIVE.replace("five", "USER-FIVE")
    assert {f.path: f.action for f in report.files}["a.txt"] == "merged"


def test_revert_stops_with_a_conflict_report_when_user_edited_the_same_lines(ws):
    (ws / "u.txt").write_text("user file\n")
    agent_run(ws)
    mine = FIVE.replace("two", "USER-TWO")
    (ws / "a.txt").write_text(mine)
    report = revert(ws, "run_1")
    assert not report.ok and not report.applied
    (conflict,) = report.conflicts
    assert conflict.path == "a.txt" and "<<<<<<< your working tree" in (conflict.merged or "")
    assert "nothing was written" in report.summary()
    assert (ws / "a.txt").read_text() == mine  # user edit untouched
    assert (ws / "new.py").exists() and not (ws / "u.txt").exists()  # nothing else written either
    partial = revert(ws, "run_1", partial=True)
    assert partial.applied and (ws / "a.txt").read_text() == mine and not (ws / "new.py").exists()


def test_revert_of_one_step_leaves_other_steps(ws):
    (ws / "u.txt").write_text("user file\n")
    agent_run(ws)
    report = revert(ws, "run_1", step=1)
    assert report.applied and (ws / "u.txt").exists()
    assert (ws / "a.txt").read_text() == FIVE.replace("two", "AGENT-TWO")


def test_dry_run_revert_writes_nothing(ws):
    (ws / "u.txt").write_text("user file\n")
    agent_run(ws)
    report = revert(ws, "run_1", dry_run=True)
    assert report.dry_run and not report.applied and (ws / "new.py").exists()


def test_repo_with_no_commits(tmp_path):
    ws = make_repo(tmp_path / "fresh", commit=False)
    (ws / "a.txt").write_text(FIVE)
    cp = checkpoint(ws, "run_x", 0)
    assert cp.head is None and cp.branch == "main" and cp.dirty
    (ws / "a.txt").write_text("agent\n")
    assert "+agent" in diff(ws, "run_x")  # no later checkpoint: compared with the working tree
    finalize(ws, "run_x")
    assert revert(ws, "run_x").applied and (ws / "a.txt").read_text() == FIVE
    assert git(ws, "status", "--porcelain") == "?? a.txt\n"


def test_detached_head(ws):
    git(ws, "checkout", "-q", "--detach")
    cp = checkpoint(ws, "run_d", 0)
    assert cp.branch is None and cp.head
    (ws / "a.txt").write_text("agent\n")
    finalize(ws, "run_d")
    assert revert(ws, "run_d").applied and (ws / "a.txt").read_text() == FIVE
    assert git(ws, "status", "--porcelain", "--branch").startswith("## HEAD (no branch)")


def test_big_files_are_left_out_and_reported(ws):
    (ws / "big.bin").write_bytes(os.urandom(4096))
    cp = checkpoint(ws, "run_b", 0, max_file_bytes=1024)
    assert [s.path for s in cp.skipped] == ["big.bin"]
    assert "big.bin" not in git(ws, "ls-tree", "-r", "--name-only", cp.commit)
    assert list_checkpoints(ws, "run_b")[0].skipped[0].size == 4096


def test_binary_file_changed_by_both_is_a_conflict(ws):
    (ws / "img.bin").write_bytes(b"\0\1\2" * 10)
    checkpoint(ws, "run_bin", 0)
    (ws / "img.bin").write_bytes(b"\0agent" * 10)
    finalize(ws, "run_bin")
    (ws / "img.bin").write_bytes(b"\0user" * 10)
    report = revert(ws, "run_bin")
    assert not report.applied and "binary" in report.conflicts[0].detail
    assert (ws / "img.bin").read_bytes() == b"\0user" * 10


def test_executable_bit_is_restored(ws):
    script = ws / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    checkpoint(ws, "run_m", 0)
    script.write_text("#!/bin/sh\necho agent\n")
    finalize(ws, "run_m")
    assert revert(ws, "run_m").applied
    assert script.read_text() == "#!/bin/sh\n" and os.access(script, os.X_OK)


def test_locked_index_checkpoint_still_works_but_revert_refuses(ws):
    checkpoint(ws, "run_l", 0)
    (ws / "a.txt").write_text("agent\n")
    lock = ws / ".git" / "index.lock"
    lock.write_text("")
    cp = finalize(ws, "run_l")
    assert any("locked" in w for w in cp.warnings)
    with pytest.raises(GitLocked) as err:
        revert(ws, "run_l")
    assert "index.lock" in err.value.message and err.value.hint
    lock.unlink()
    assert revert(ws, "run_l").applied


def test_submodule_is_recorded_not_reverted(tmp_path):
    sub = make_repo(tmp_path / "sub")
    ws = make_repo(tmp_path / "main")
    git(ws, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor/sub")
    git(ws, "commit", "-qm", "add submodule")
    cp = checkpoint(ws, "run_s", 0)
    assert cp.submodules == ["vendor/sub"]
    (ws / "vendor" / "sub" / "a.txt").write_text("agent in submodule\n")
    git(ws / "vendor" / "sub", "commit", "-qam", "agent")
    (ws / "a.txt").write_text("agent\n")
    finalize(ws, "run_s")
    report = revert(ws, "run_s")
    actions = {f.path: f.action for f in report.files}
    assert actions == {"a.txt": "restored", "vendor/sub": "skipped"}
    assert (
        "git -C vendor/sub checkout" in report.files[1].detail
        or "git -C vendor/sub checkout" in report.files[0].detail
    )


def test_not_a_repo_names_git_init(tmp_path):
    with pytest.raises(NotAGitRepo) as err:
        checkpoint(tmp_path, "run_1", 0)
    assert "git init" in (err.value.hint or "")


def test_bad_inputs_are_clear_errors(ws):
    with pytest.raises(InvalidInput):
        checkpoint(ws, "../evil", 0)
    with pytest.raises(InvalidInput):
        checkpoint(ws, "run_1", -1)
    with pytest.raises(NotFound):
        diff(ws, "run_none")
    checkpoint(ws, "run_1", 0)
    with pytest.raises(NotFound) as err:
        diff(ws, "run_1", step=7)
    assert "steps with checkpoints: 0" in (err.value.hint or "")


def test_gc_removes_old_runs_and_keeps_what_is_asked(ws):
    checkpoint(ws, "run_old", 0)
    checkpoint(ws, "run_live", 0)
    assert gc(ws, "14d").removed_runs == []
    dry = gc(ws, "0s", keep={"run_live"}, dry_run=True)
    assert dry.removed_runs == ["run_old"] and list_runs(ws) == ["run_live", "run_old"]
    report = gc(ws, older_than=-1, keep={"run_live"})
    assert report.removed_runs == ["run_old"] and report.removed_refs == 1
    assert list_runs(ws) == ["run_live"]
    assert parse_age("2h") == 7200 and parse_age("30d") == 30 * 86400
    with pytest.raises(InvalidInput):
        parse_age("soon")


def test_symlinks_and_edge_conflicts(ws):
    (ws / "link").symlink_to("a.txt")
    (ws / "gone.txt").write_text("keep\n")
    checkpoint(ws, "run_e", 0)
    (ws / "link").unlink()
    (ws / "link").symlink_to("elsewhere")
    (ws / "created.txt").write_text("agent\n")
    (ws / "gone.txt").write_text("agent edit\n")
    finalize(ws, "run_e")
    (ws / "created.txt").write_text("agent\nuser\n")  # user edited a file the agent created
    (ws / "gone.txt").unlink()  # user deleted a file the agent edited
    report = revert(ws, "run_e", partial=True)
    actions = {f.path: f.action for f in report.files}
    assert actions == {"created.txt": "conflict", "gone.txt": "conflict", "link": "restored"}
    assert os.readlink(ws / "link") == "a.txt"
    assert (ws / "created.txt").read_text() == "agent\nuser\n" and not (ws / "gone.txt").exists()
