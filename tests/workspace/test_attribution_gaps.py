"""The user's intervals of a run (between the agent's calls, across step marks, after the last
call) decide who had the last word on a path, not content alone: a deletion, or a file put back
as it was, looks the same whoever made it. Runs simulated as in test_attribution.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_ls.workspace import revert, run_diff
from harness_ls.workspace.changeset import load_changes

from .attribution_sim import SimRun, make_repo


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def put(rel: str, text: str | None):
    def fn(ws: Path) -> None:
        if text is None:
            (ws / rel).unlink()
        else:
            (ws / rel).write_text(text)

    return fn


def outcomes(report) -> dict[str, tuple[str, str]]:
    return {f.path: (f.action, f.detail) for f in report.files}


@pytest.mark.parametrize("finished", [True, False])
def test_a_delete_across_a_step_mark_is_the_users_last_word(ws, data, finished):
    """The user re-creates a.txt the agent deleted, a step starts (its mark sees the file), the
    user deletes it again: the agent's call and the end of the run both see it absent, so only
    the mark between them shows the user had it. Without `final` (the run still going, or
    killed) the interval runs to the live tree."""
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(put("a.txt", None), "shell")
    (ws / "a.txt").write_text("user's own\n")
    run.start_step(1)
    (ws / "a.txt").unlink()
    if finished:
        run.finish()
    report = revert(data, ws, run.run_id, run.events)
    assert outcomes(report) == {
        "a.txt": ("conflict", "you deleted it after the agent changed it; kept as is")
    }
    assert not (ws / "a.txt").exists() and not report.applied


def test_the_users_delete_between_two_agent_calls_is_what_revert_restores(ws, data):
    """Agent deletes a.txt, the user re-creates it and (after another agent call) deletes it,
    then the agent writes a.txt anew: the agent's second change began from the user's deletion,
    so revert deletes the agent's a.txt rather than bringing back the pre-run one."""
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(put("a.txt", None), "shell")
    (ws / "a.txt").write_text("user's own\n")
    run.call(put("b.txt", "agent b\n"), "write_file", "b.txt")
    (ws / "a.txt").unlink()
    run.call(put("a.txt", "agent again\n"), "write_file", "a.txt")
    run.finish()
    report = revert(data, ws, run.run_id, run.events)
    assert outcomes(report) == {
        "a.txt": ("deleted", "created by the agent after you deleted it"),
        "b.txt": ("deleted", "created by the agent"),
    }
    assert not (ws / "a.txt").exists() and not (ws / "b.txt").exists()


def test_a_step_revert_keeps_the_users_later_delete(ws, data):
    """Revert of step 1 only: the user's delete of a.txt in step 2, after the agent's delete
    in step 1 and the user's re-creation, stays."""
    run = SimRun(data, ws)
    run.start_step(1)
    run.call(put("a.txt", None), "shell")
    (ws / "a.txt").write_text("user's own\n")
    run.start_step(2)
    run.call(put("c.txt", "agent c\n"), "write_file", "c.txt")
    (ws / "a.txt").unlink()
    run.finish()
    report = revert(data, ws, run.run_id, run.events, 1)
    assert outcomes(report) == {
        "a.txt": ("conflict", "you deleted it after the agent changed it; kept as is")
    }
    assert not (ws / "a.txt").exists() and (ws / "c.txt").read_text() == "agent c\n"


def test_user_intervals_count_step_marks_and_the_diff_lists_their_paths(ws, data):
    """notes.txt made by the user before a step mark and removed after it is listed as the
    user's: the mark saw it. The intervals are from after-snapshots and marks to the next
    snapshot, never from a call's before-snapshot."""
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(put("b.txt", "agent b\n"), "write_file", "b.txt")
    (ws / "notes.txt").write_text("mine\n")
    run.start_step(1)
    (ws / "notes.txt").unlink()
    run.call(put("c.txt", "agent c\n"), "shell")
    run.finish()
    changes = load_changes(data, ws, run.run_id, run.events)
    assert [(g.window, g.b is None) for g in changes.gaps] == [
        (0, False),  # mark 0 → first call
        (1, False),  # first call → mark 1
        (1, False),  # mark 1 → second call
        (2, False),  # second call → final
    ]
    assert changes.user_changes() == {"notes.txt": [1, 1]}
    assert changes.user_changes(since=2) == {}
    assert run_diff(data, ws, run.run_id, run.events).user_paths == ["notes.txt"]


def test_changes_of_many_tree_pairs_in_one_git_call_match_one_by_one(ws, data):
    """`Shadow.changes_many` parses `diff-tree --stdin`: names with a newline, a colon or
    spaces, an unchanged pair, a deletion and a mode change come out as `changes` gives them."""
    from harness_ls.workspace.shadow import open_shadow
    from harness_ls.workspace.snapshot import snapshot

    repo = open_shadow(data, ws)
    t0 = snapshot(repo, "run_sim").tree
    (ws / "odd\nname: x.txt").write_text("odd\n")
    (ws / ":lead").write_text("colon\n")
    t1 = snapshot(repo, "run_sim").tree
    (ws / "a.txt").unlink()
    (ws / ":lead").chmod(0o755)
    t2 = snapshot(repo, "run_sim").tree
    pairs = [(t0, t1), (t1, t1), (t1, t2), (t2, t0)]
    many = repo.changes_many(pairs)
    assert many == [repo.changes(a, b) for a, b in pairs]
    assert [sorted(e.path for e in es) for es in many] == [
        [":lead", "odd\nname: x.txt"],
        [],
        [":lead", "a.txt"],
        [":lead", "a.txt", "odd\nname: x.txt"],
    ]
    assert repo.changes_many([]) == []
