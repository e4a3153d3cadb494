"""Per-call attribution, diff and revert on real git repositories in temp dirs.

The run is simulated at the workspace level (tests/workspace/attribution_sim.py): the same
snapshot functions the runtime calls around each tool call, and the events it would log.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness_ls.errors import InvalidInput, NotFound
from harness_ls.workspace import gc, revert, run_diff
from harness_ls.workspace.shadow import shadow_dir

from .attribution_sim import SimRun, git, make_repo


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def user_state(ws: Path) -> dict[str, str]:
    """Everything of the user's repository a checkpoint or revert must leave alone."""

    def out(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True).stdout

    index = ws / ".git" / "index"
    logs = sorted(str(p.relative_to(ws)) + ":" + p.read_text() for p in (ws / ".git" / "logs").rglob("*") if p.is_file()) if (ws / ".git" / "logs").exists() else []  # fmt: skip
    return {
        "index": index.read_bytes().hex() if index.exists() else "",
        "head": out("rev-parse", "-q", "--verify", "HEAD"),
        "symref": out("symbolic-ref", "-q", "HEAD"),
        "stash": out("stash", "list"),
        "refs": out("for-each-ref"),
        "reflog": "\n".join(logs),
        "objects": out("count-objects"),
    }


def write(rel: str, text: str | bytes):
    def fn(ws: Path) -> None:
        p = ws / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text if isinstance(text, bytes) else text.encode())

    return fn


def rm(rel: str):
    return lambda ws: (ws / rel).unlink()


def do_revert(data: Path, ws: Path, run: SimRun, step: int | None = None, **kw):
    return revert(data, ws, run.run_id, run.events, step, **kw)


def test_user_file_created_while_waiting_survives_revert_byte_for_byte(ws, data):
    """The issue's report: NOTES.txt made by hand during a run was deleted by revert."""
    (ws / "a.txt").write_text("staged by user\n")
    git(ws, "add", "a.txt")
    (ws / "s.txt").write_text("stash me\n")
    git(ws, "stash", "push", "-q", "--include-untracked", "--", "s.txt")
    before = user_state(ws)
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("new.py", "print('agent')\n"), "write_file", "new.py")
    (ws / "NOTES.txt").write_bytes(b"mine\r\n\x00binary-ish\n")  # user, between calls
    (ws / "a.txt").write_text("user edit\n")
    run.call(write("lib/b.txt", "agent b\n"), "write_file", "lib/b.txt")
    run.finish()
    assert user_state(ws) == before  # snapshots never touch the user's repository
    d = run_diff(data, ws, run.run_id, run.events)
    assert [c.paths for c in d.calls] == [["new.py"], ["lib/b.txt"]]
    assert d.user_paths == ["NOTES.txt", "a.txt"]
    report = do_revert(data, ws, run)
    assert report.ok and report.applied and report.safety_ref
    assert {f.path: f.action for f in report.files} == {"lib/b.txt": "deleted", "new.py": "deleted"}
    assert (ws / "NOTES.txt").read_bytes() == b"mine\r\n\x00binary-ish\n"
    assert (ws / "a.txt").read_text() == "user edit\n"
    assert not (ws / "new.py").exists() and not (ws / "lib").exists()
    assert user_state(ws) == before  # nor does revert
    # the safety ref lives in the shadow repository, not in the user's refs
    shadow = shadow_dir(data, ws)
    assert subprocess.run(["git", "--git-dir", str(shadow), "show", f"{report.safety_ref}:new.py"],
                          capture_output=True, text=True).stdout == "print('agent')\n"  # fmt: skip
    again = do_revert(data, ws, run)
    assert again.ok and not again.applied and again.safety_ref is None
    assert again.summary().startswith(
        "nothing to revert: the agent's changes in run run_sim are already undone"
    )


def test_file_the_agent_wrote_and_the_user_edited_after_is_a_conflict(ws, data):
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("a.txt", "agent\n"), "edit", "a.txt")
    run.call(write("b.txt", "agent b\n"), "write_file", "b.txt")
    run.finish()
    (ws / "a.txt").write_text("user after\n")
    report = do_revert(data, ws, run)
    assert not report.ok and [f.path for f in report.conflicts] == ["a.txt"]
    assert "you changed it after the agent did; kept as is" in report.conflicts[0].detail
    assert (ws / "a.txt").read_text() == "user after\n" and not (ws / "b.txt").exists()
    assert report.safety_ref and "retry with --force" in report.summary()
    forced = do_revert(data, ws, run, force=True)
    assert forced.ok and [f.action for f in forced.files] == ["forced", "unchanged"]
    assert (ws / "a.txt").read_text() == "one\ntwo\nthree\n"
    shadow = shadow_dir(data, ws)
    saved = subprocess.run(["git", "--git-dir", str(shadow), "show", f"{forced.safety_ref}:a.txt"],
                           capture_output=True, text=True).stdout  # fmt: skip
    assert saved == "user after\n"


def test_user_deleting_an_agent_file_mid_run_is_kept_deleted(ws, data):
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("gen.txt", "agent\n"), "write_file", "gen.txt")
    (ws / "gen.txt").unlink()  # the user, before the next call
    (ws / "a.txt").unlink()  # a tracked file the agent never touched
    run.call(write("c.txt", "agent c\n"), "write_file", "c.txt")
    run.finish()
    report = do_revert(data, ws, run)
    outcome = {f.path: (f.action, f.detail) for f in report.files}
    assert outcome["gen.txt"] == ("unchanged", "already as before the agent")
    assert outcome["c.txt"][0] == "deleted" and "a.txt" not in outcome
    assert not (ws / "a.txt").exists() and not (ws / "gen.txt").exists()


def test_user_edit_between_two_agent_edits_of_one_file_is_what_revert_restores(ws, data):
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("a.txt", "agent 1\n"), "edit", "a.txt")
    (ws / "a.txt").write_text("user between\n")
    run.call(write("a.txt", "agent 2\n"), "edit", "a.txt")
    run.finish()
    report = do_revert(data, ws, run)
    assert report.ok and (ws / "a.txt").read_text() == "user between\n"


def test_revert_of_one_step_and_diff_of_one_step(ws, data):
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("s0.txt", "zero\n"), "write_file", "s0.txt")
    run.start_step(1)
    run.call(write("s1.txt", "one\n"), "write_file", "s1.txt")
    run.call(write("a.txt", "agent\n"), "edit", "a.txt")
    run.finish()
    d = run_diff(data, ws, run.run_id, run.events, 1, stat=True)
    assert [c.paths for c in d.calls] == [["s1.txt"], ["a.txt"]] and "1 file changed" in d.calls[
        0
    ].text
    report = do_revert(data, ws, run, step=1)
    assert report.ok and (ws / "s0.txt").exists() and not (ws / "s1.txt").exists()
    assert (ws / "a.txt").read_text() == "one\ntwo\nthree\n"
    with pytest.raises(NotFound, match="has no step 7"):
        do_revert(data, ws, run, step=7)


def test_crash_before_the_after_snapshot_claims_only_the_named_path(ws, data):
    """kill -9 between a tool call and its after-snapshot: the delta is unknown."""
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("x.txt", "agent x\n"), "write_file", "x.txt", crash=True)
    (ws / "y.txt").write_text("user y\n")  # after the crash, before anyone looked
    run.call(write("z.txt", "made by shell\n"), "shell", crash=True)
    (ws / "w.txt").write_text("user w\n")
    report = do_revert(data, ws, run)
    outcome = {f.path: f.action for f in report.files}
    # y.txt appeared inside the unfinished call's window: owner unknown, reported, untouched
    assert outcome == {
        "x.txt": "deleted",
        "y.txt": "skipped",
        "z.txt": "skipped",
        "w.txt": "skipped",
    }
    assert not (ws / "x.txt").exists()
    assert (ws / "y.txt").read_text() == "user y\n" and (ws / "w.txt").read_text() == "user w\n"
    assert (ws / "z.txt").exists()  # owner unknown: left alone, reported
    assert "owner unknown" in report.summary()
    d = run_diff(data, ws, run.run_id, run.events).render()
    assert "unfinished call" in d


def test_binary_mode_change_and_symlink_are_reverted(ws, data):
    (ws / "run.sh").write_text("#!/bin/sh\n")
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("img.bin", bytes(range(256)) * 10), "write_file", "img.bin")
    run.call(lambda w: os.chmod(w / "run.sh", 0o755), "shell")
    run.call(lambda w: os.symlink("a.txt", w / "link"), "shell")
    run.call(write("a.txt", b"\x00\x01agent"), "write_file", "a.txt")
    run.finish()
    d = run_diff(data, ws, run.run_id, run.events)
    assert "old mode 100644" in d.calls[1].text and "Binary files" in d.calls[0].text
    report = do_revert(data, ws, run)
    assert report.ok
    assert not (ws / "img.bin").exists() and not os.path.lexists(ws / "link")
    assert (
        not os.access(ws / "run.sh", os.X_OK) and (ws / "a.txt").read_text() == "one\ntwo\nthree\n"
    )


def test_big_file_is_reported_and_never_deleted(ws, data):
    run = SimRun(data, ws, max_file_bytes=1000)
    run.start_step(0)
    run.call(write("big.bin", b"x" * 5000), "shell")
    report = do_revert(data, ws, run)
    assert [(f.path, f.action) for f in report.files] == [("big.bin", "skipped")]
    assert "larger than 1000 bytes" in report.files[0].detail and (ws / "big.bin").exists()


def test_fifty_megabyte_file_the_agent_wrote_is_reverted(ws, data):
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("data.bin", os.urandom(1024) * 50_000), "write_file", "data.bin")
    report = do_revert(data, ws, run)
    assert report.ok and not (ws / "data.bin").exists()


@pytest.mark.parametrize("kind", ["no-git", "no-commits", "detached", "dirty-index"])
def test_odd_repositories_work_without_touching_user_state(tmp_path, data, kind):
    ws = tmp_path / "w"
    if kind == "no-git":
        ws.mkdir()
        (ws / "a.txt").write_text("plain\n")
    else:
        make_repo(ws, commit=kind != "no-commits")
        if kind == "detached":
            git(ws, "checkout", "-q", "--detach")
        if kind == "dirty-index":
            (ws / "staged.txt").write_text("s\n")
            git(ws, "add", "staged.txt")
    before = user_state(ws) if kind != "no-git" else None
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("agent.txt", "a\n"), "write_file", "agent.txt")
    (ws / "user.txt").write_text("u\n")
    run.finish()
    report = do_revert(data, ws, run)
    assert report.ok and not (ws / "agent.txt").exists() and (ws / "user.txt").exists()
    if before is not None:
        assert user_state(ws) == before
    assert not (ws / ".git").exists() if kind == "no-git" else True


def test_nested_repository_is_skipped_not_reverted(ws, data):
    run = SimRun(data, ws)
    run.start_step(0)

    def clone(w: Path) -> None:
        make_repo(w / "vendor" / "lib")

    run.call(clone, "shell")
    report = do_revert(data, ws, run)
    assert [(f.path, f.action) for f in report.files] == [("vendor/lib", "skipped")]
    assert (ws / "vendor" / "lib" / "a.txt").exists()


def test_data_dir_inside_the_workspace_is_not_snapshotted(ws):
    data = ws / ".harness-data"
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("n.txt", "x\n"), "write_file", "n.txt")
    d = run_diff(data, ws, run.run_id, run.events)
    assert [c.paths for c in d.calls] == [["n.txt"]] and d.user_paths == []


def test_bad_run_ids_and_missing_objects_are_clear(ws, data):
    run = SimRun(data, ws, run_id="../evil")
    with pytest.raises(InvalidInput, match="cannot name a checkpoint"):
        run.start_step(0)
    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("a.txt", "agent\n"), "edit", "a.txt")
    import shutil

    shutil.rmtree(shadow_dir(data, ws) / "objects")
    (shadow_dir(data, ws) / "objects").mkdir()
    with pytest.raises(Exception) as err:
        do_revert(data, ws, run)
    assert (ws / "a.txt").read_text() == "agent\n"  # nothing written
    assert "shadow" in str(err.value) or "objects" in str(err.value) or "git" in str(err.value)


def test_gc_removes_shadow_refs_of_old_runs_and_keeps_asked_ones(ws, data):
    for rid in ("run_old", "run_keep"):
        run = SimRun(data, ws, run_id=rid)
        run.start_step(0)
        run.finish()
    report = gc(ws, "0s", keep={"run_keep"}, data_dir=data)
    assert report.removed_runs == ["run_old"] and report.kept_runs == ["run_keep"]
    refs = subprocess.run(["git", "--git-dir", str(shadow_dir(data, ws)), "for-each-ref"],
                          capture_output=True, text=True).stdout  # fmt: skip
    assert "run_old" not in refs and "run_keep" in refs


def test_dashboard_diff_hides_the_diagram_hash_file_unless_a_tool_wrote_it(ws, data):
    from harness_ls.workspace import combined_diff, load_changes

    run = SimRun(data, ws)
    run.start_step(0)
    run.call(write("docs/diagrams/x.mmd", "graph TD; a-->b\n"), "write_file", "docs/diagrams/x.mmd")

    def render(w: Path) -> None:
        write("docs/diagrams/.hashes.json", '{"x.mmd": "1"}\n')(w)
        write("docs/diagrams/x.png", b"\x89PNG fake")(w)

    run.call(render, "render_diagrams")
    text = combined_diff(load_changes(data, ws, run.run_id, run.events))
    assert "docs/diagrams/x.mmd" in text and "docs/diagrams/x.png" in text
    assert ".hashes.json" not in text
    run.call(
        write("docs/diagrams/.hashes.json", "{}\n"), "write_file", "docs/diagrams/.hashes.json"
    )
    text = combined_diff(load_changes(data, ws, run.run_id, run.events))
    assert ".hashes.json" in text


def test_a_file_the_user_saves_during_a_write_call_stays_theirs(ws, data):
    """A write/edit call's after-snapshot re-reads only its own path (its footprint): a file
    the user saves while the call runs is not the agent's, and revert leaves it alone."""
    run = SimRun(data, ws)
    run.start_step(0)

    def agent_and_user(w: Path) -> None:
        write("agent.py", "agent\n")(w)
        (w / "a.txt").write_text("user, during the call\n")  # saved in the editor meanwhile

    cid = run.call(agent_and_user, "write_file", "agent.py")
    run.finish()
    delta = next(e for e in run.events if e.type == "checkpoint.delta" and e.call_id == cid)
    assert [f["path"] for f in delta.data["files"]] == ["agent.py"]
    report = do_revert(data, ws, run)
    assert report.ok and [f.path for f in report.files] == ["agent.py"]
    assert not (ws / "agent.py").exists()
    assert (ws / "a.txt").read_text() == "user, during the call\n"


def test_a_write_call_to_an_ignored_file_is_claimed_and_a_too_big_one_is_not(ws, data):
    """Issue 32: an ignored file the agent writes is its change (revert can undo it)."""
    run = SimRun(data, ws, max_file_bytes=1000)
    run.start_step(0)
    ignored = run.call(write("debug.log", "agent log\n"), "write_file", "debug.log")
    big = run.call(write("big.txt", "x" * 5000), "write_file", "big.txt")
    run.finish()
    deltas = {e.call_id: e.data for e in run.events if e.type == "checkpoint.delta"}
    assert [f["path"] for f in deltas[ignored]["files"]] == ["debug.log"]
    assert deltas[big]["files"] == []
    assert [s["path"] for s in deltas[big]["skipped"]] == ["big.txt"]


def test_a_call_that_creates_hundreds_of_files_is_claimed_whole_without_the_big_one(ws, data):
    """Past MANY_PATHSPECS changed paths the snapshot adds the whole tree in one go (minus the
    files too big to keep): every new file is the call's, the big one is reported, not hashed."""
    run = SimRun(data, ws, max_file_bytes=1000)
    run.start_step(0)

    def generate(w: Path) -> None:
        for i in range(300):
            write(f"gen/m{i:03}.py", f"x = {i}\n")(w)
        write("gen/huge.bin", b"x" * 5000)(w)

    cid = run.call(generate, "shell")
    run.finish()
    delta = next(e for e in run.events if e.type == "checkpoint.delta" and e.call_id == cid)
    assert sorted(f["path"] for f in delta.data["files"]) == [f"gen/m{i:03}.py" for i in range(300)]
    assert [s["path"] for s in delta.data["skipped"]] == ["gen/huge.bin"]
    report = do_revert(data, ws, run)
    outcome = {f.path: f.action for f in report.files}
    assert report.ok and len(outcome) == 301 and outcome.pop("gen/huge.bin") == "skipped"
    assert set(outcome.values()) == {"deleted"}
    assert sorted(p.name for p in (ws / "gen").iterdir()) == ["huge.bin"]


def test_a_new_file_that_vanishes_between_listing_and_add_does_not_fail_the_snapshot(
    ws, data, monkeypatch
):
    """A temp file another process deletes right after the snapshot listed it (a test run's
    cache, an editor's swap file): `add` of that path finds nothing, the snapshot retries
    whole-tree instead of failing, and the file is simply not in the tree."""
    from harness_ls.workspace import shadow as sh
    from harness_ls.workspace.snapshot import snapshot

    repo = sh.open_shadow(data, ws)
    snapshot(repo, "run_sim")
    (ws / "swap.tmp").write_text("x\n")
    listed = sh.Shadow.run_both

    def racy(self, *args, **kwargs):
        out = listed(self, *args, **kwargs)
        (ws / "swap.tmp").unlink()
        return out

    monkeypatch.setattr(sh.Shadow, "run_both", racy)
    snap = snapshot(repo, "run_sim")
    names = repo.out("ls-tree", "--name-only", snap.tree).split("\n")
    assert names == [".gitignore", "a.txt"] and snap.warnings == []


def test_a_file_the_user_recreates_and_deletes_after_the_agent_deleted_it_stays_deleted(tmp_path):
    """The agent deletes a.txt; the user re-creates it (seen by the next call's snapshot), then
    deletes it again. Its end state equals what the agent left, but the user touched it last:
    revert keeps it as the user left it, and says so."""
    ws = make_repo(tmp_path / "ws")
    run = SimRun(tmp_path / "data", ws)
    run.start_step(0)
    run.call(lambda w: (w / "a.txt").unlink(), "shell")
    (ws / "a.txt").write_text("mine\n")
    run.call(lambda w: (w / "b.txt").write_text("agent\n"), "write_file", "b.txt")
    (ws / "a.txt").unlink()
    run.finish()
    report = revert(tmp_path / "data", ws, run.run_id, run.events)
    by = {f.path: f for f in report.files}
    assert not (ws / "a.txt").exists()
    assert (by["a.txt"].action, by["a.txt"].detail) == (
        "conflict",
        "you deleted it after the agent changed it; kept as is",
    )
    assert by["b.txt"].action == "deleted" and not (ws / "b.txt").exists()


def test_revert_never_writes_through_a_link_the_agent_made_in_place_of_a_folder(tmp_path, ws, data):
    """Step 0 deletes src/x/y.py; step 1 replaces src/ with a link out of the workspace (full-auto
    or an approved `ln -s`). Reverting step 0 alone restores y.py under src/x/, which does not
    exist: the check on its folder saw no link, and mkdir followed src (fails on ac122d8)."""
    from harness_ls.errors import Refused

    write("src/x/y.py", "print('mine')\n")(ws)
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "src")
    outside = tmp_path / "outside"
    outside.mkdir()

    def relink(w: Path) -> None:
        import shutil

        shutil.rmtree(w / "src")
        os.symlink(outside, w / "src")

    run = SimRun(data, ws)
    run.start_step(0)
    run.call(rm("src/x/y.py"), "shell", "src/x/y.py")
    run.start_step(1)
    run.call(relink, "shell", "src")
    run.finish()
    with pytest.raises(Refused, match="refusing to write src/x/y.py: its directory leads outside"):
        do_revert(data, ws, run, step=0)
    assert list(outside.iterdir()) == []
