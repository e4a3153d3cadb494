"""Where per-call checkpoints apply: off when `checkpoints` is False, in a plain (non-git)
directory through the shadow repo, and around a chat session's mutating tool calls."""

from __future__ import annotations

import json

from harness_ls.testing.greet import DOCS, DONE

from .conftest import events, git, next_approval, script

PLAN1 = {"text": json.dumps({"steps": [{"title": "Write hello into greet.txt", "spec_line": 2}]})}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


async def test_checkpoints_off_takes_no_snapshot_at_all(harness, repo, tmp_path):
    harness.options["checkpoints"] = False
    name = script(tmp_path, PLAN1, write("greet.txt", "hello\n"), DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    await harness.answer_approval((await next_approval(harness, meta.id)).id, "approve", "cli")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    assert (repo / "greet.txt").read_text() == "hello\n"
    kinds = {e.type for e in events(harness, meta.id)}
    assert not {k for k in kinds if k.startswith("checkpoint.")}, kinds
    assert not (harness.data_dir / "checkpoints").exists()


async def test_a_plain_directory_runs_with_checkpoints_and_a_clear_note(harness, tmp_path):
    from harness_ls.testing.greet import SPEC
    from harness_ls.workspace import revert, run_diff
    from harness_ls.workspace.changeset import full_events

    plain = tmp_path / "plain"
    (plain / "specs" / "greet").mkdir(parents=True)
    (plain / "specs" / "greet" / "spec.md").write_text(SPEC)
    (plain / "greet.txt").write_text("hi\n")
    name = script(tmp_path, PLAN1, write("greet.txt", "hello\n"), DONE, DOCS)
    meta = await harness.start_run(str(plain), "specs/greet/spec.md", model=name)
    approval = await next_approval(harness, meta.id)
    (plain / "NOTES.txt").write_text("the user's\n")  # while the run waits: the user's file
    await harness.answer_approval(approval.id, "approve", "cli")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    assert not (plain / ".git").exists()
    evs = full_events(harness.store.reader("run", meta.id))
    notes = [
        e.data["message"]
        for e in evs
        if e.type == "log" and e.data.get("code") == "workspace.not_git"
    ]
    assert len(notes) == 1 and "not a git repository" in notes[0] and "git init" in notes[0]
    summary = (harness.store.artifacts_dir(meta.id) / "summary.md").read_text()
    changed = summary.split("## Changed files", 1)[1].split("\n## ", 1)[0]
    assert "`M greet.txt`" in changed and "NOTES.txt" not in changed
    d = run_diff(harness.data_dir, plain, meta.id, evs)
    assert [c.paths for c in d.calls] == [["greet.txt"]] and d.user_paths == ["NOTES.txt"]
    report = revert(harness.data_dir, plain, meta.id, evs)
    assert report.ok and {f.path: f.action for f in report.files} == {"greet.txt": "restored"}
    assert (plain / "greet.txt").read_text() == "hi\n"
    assert (plain / "NOTES.txt").read_text() == "the user's\n"
    assert not (plain / ".git").exists()


def agentctl(data_dir, cwd, *args: str):
    import subprocess

    from harness_ls.testing.greet import clean_env
    from tests.cli.conftest import AGENTCTL

    env = clean_env(cwd / "home", HARNESS_DATA_DIR=str(data_dir))
    return subprocess.run([*AGENTCTL, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


async def test_a_chat_sessions_writes_are_attributed_and_the_users_edits_between_turns_are_not(
    harness, repo, tmp_path, monkeypatch
):
    from harness_ls.testing.fake_models import FakeOpenAIServer
    from harness_ls.workspace import run_diff
    from harness_ls.workspace.changeset import full_events

    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        meta = await harness.create_session(str(repo), model="openai:gpt-4.1", title="t")
        for turn, content in enumerate(("one\n", "two\n"), start=1):
            srv.push_tool_call("write_file", {"path": "notes.txt", "content": content})
            srv.push_text("Done.")
            await harness.post_message(meta.id, f"write {content!r} to notes.txt", surface="cli")
            approval = await next_approval(harness, meta.id)
            await harness.answer_approval(approval.id, "approve", "cli")
            assert (await harness.wait_session(meta.id)).status == "idle"
            if turn == 1:  # between the turns: the user's own work
                (repo / "greet.txt").write_text("the user's edit\n")
                (repo / "mine.txt").write_text("the user's file\n")
    evs = full_events(harness.store.reader("session", meta.id))
    deltas = [e for e in evs if e.type == "checkpoint.delta"]
    assert [[f["path"] for f in d.data["files"]] for d in deltas] == [["notes.txt"], ["notes.txt"]]
    assert sum(e.type == "checkpoint.before" for e in evs) == 2
    d = run_diff(harness.data_dir, repo, meta.id, evs)
    assert [c.paths for c in d.calls] == [["notes.txt"], ["notes.txt"]]
    assert d.user_paths == ["greet.txt", "mine.txt"]

    shown = agentctl(harness.data_dir, tmp_path, "diff", "--stat", meta.id)
    assert shown.returncode == 0, shown.stderr
    assert "notes.txt" in shown.stdout and "mine.txt" in shown.stdout  # listed as the user's
    assert "during the session — not the agent's" in shown.stdout and "### step" not in shown.stdout
    stepped = agentctl(harness.data_dir, tmp_path, "diff", "--step", "1", meta.id)
    assert stepped.returncode == 2 and "no plan steps" in stepped.stderr
    missing = agentctl(harness.data_dir, tmp_path, "diff", "ses_nope")
    assert missing.returncode == 5 and "no session 'ses_nope'" in missing.stderr
    undone = agentctl(harness.data_dir, tmp_path, "revert", meta.id)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert not (repo / "notes.txt").exists()
    assert (repo / "greet.txt").read_text() == "the user's edit\n"
    assert (repo / "mine.txt").read_text() == "the user's file\n"


async def _write_run(harness, repo, tmp_path, path: str, content: str) -> str:
    harness.options.update(verify_attempts=0)  # the greet acceptance test is beside the point
    name = script(tmp_path, PLAN1, write(path, content), DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    await harness.answer_approval((await next_approval(harness, meta.id)).id, "approve", "cli")
    final = await harness.wait_run(meta.id, 30)
    assert final.status in ("completed", "failed") and (repo / path).read_text() == content
    return meta.id


def _has(shadow_dir, content: str) -> bool:
    import subprocess

    sha = subprocess.run(["git", "hash-object", "--stdin"], input=content.encode(),
                         capture_output=True, check=True).stdout.decode().strip()  # fmt: skip
    probe = subprocess.run(["git", "--git-dir", str(shadow_dir), "cat-file", "-e", sha])
    return probe.returncode == 0


async def test_gc_prunes_a_removed_runs_blobs_and_keeps_what_other_logs_name(
    harness, repo, tmp_path
):
    from harness_ls.workspace import revert, run_diff
    from harness_ls.workspace.changeset import full_events
    from harness_ls.workspace.gc import gc, log_trees
    from harness_ls.workspace.shadow import shadow_dir

    old = await _write_run(harness, repo, tmp_path, "a.txt", "only in the old run\n")
    (repo / "a.txt").unlink()  # the user throws it away: no later snapshot holds its blob
    new = await _write_run(harness, repo, tmp_path, "b.txt", "only in the kept run\n")
    shadow = shadow_dir(harness.data_dir, repo)
    assert _has(shadow, "only in the old run\n") and _has(shadow, "only in the kept run\n")
    pins = {rid: log_trees(full_events(harness.store.reader("run", rid))) for rid in (old, new)}
    report = gc(repo, "0s", keep={new}, data_dir=harness.data_dir, pins=pins)
    assert report.removed_runs == [old] and report.kept_runs == [new]
    assert report.pruned and report.pinned_trees > 0
    assert not _has(shadow, "only in the old run\n")
    assert _has(shadow, "only in the kept run\n")
    evs = full_events(harness.store.reader("run", new))
    assert [c.paths for c in run_diff(harness.data_dir, repo, new, evs).calls] == [["b.txt"]]
    assert revert(harness.data_dir, repo, new, evs).ok and not (repo / "b.txt").exists()
    # a later run in the same tree still snapshots correctly after the prune
    third = await _write_run(harness, repo, tmp_path, "c.txt", "third\n")
    evs = full_events(harness.store.reader("run", third))
    assert [c.paths for c in run_diff(harness.data_dir, repo, third, evs).calls] == [["c.txt"]]

    status = git(repo, "status", "--porcelain")
    shown = agentctl(harness.data_dir, tmp_path, "checkpoints", "gc", "--older-than", "0s",
                     "--workspace", str(repo))  # fmt: skip
    assert shown.returncode == 0 and "pruned" in shown.stdout, shown.stdout + shown.stderr
    assert git(repo, "status", "--porcelain") == status
    assert not _has(shadow, "third\n")  # every run removed: nothing names it any more
    assert (repo / "c.txt").read_text() == "third\n"  # the work tree is never touched


async def test_checkpoints_off_also_means_no_snapshots_in_a_session(
    harness, repo, tmp_path, monkeypatch
):
    from harness_ls.testing.fake_models import FakeOpenAIServer

    harness.options["checkpoints"] = False
    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        meta = await harness.create_session(str(repo), model="openai:gpt-4.1", title="t")
        srv.push_tool_call("write_file", {"path": "notes.txt", "content": "x\n"})
        srv.push_text("Done.")
        await harness.post_message(meta.id, "write notes.txt", surface="cli")
        await harness.answer_approval((await next_approval(harness, meta.id)).id, "approve", "cli")
        assert (await harness.wait_session(meta.id)).status == "idle"
    assert (repo / "notes.txt").read_text() == "x\n"
    kinds = {e.type for e in events(harness, meta.id, "session")}
    assert "tool.result" in kinds and not {k for k in kinds if k.startswith("checkpoint.")}
    assert not (harness.data_dir / "checkpoints").exists()


def test_footprint_is_the_written_file_only_for_file_tools(tmp_path):
    """The after-snapshot of a write/edit re-reads the one real path it wrote; anything else
    (shell, MCP, a path the tool refuses) gets a full walk of the work tree."""
    from types import SimpleNamespace

    from harness_ls.agent.checkpoints import footprint

    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "real.py").write_text("x\n")
    (ws / "alias.py").symlink_to("src/real.py")
    write = SimpleNamespace(kind="write")
    assert footprint(ws, write, SimpleNamespace(path="./src/../src/new.py")) == ["src/new.py"]
    assert footprint(ws, write, SimpleNamespace(path="alias.py")) == ["src/real.py"]
    assert footprint(ws, write, SimpleNamespace(path=str(ws / "a" / "b.txt"))) == ["a/b.txt"]
    assert footprint(ws, write, SimpleNamespace(path="../outside.py")) is None
    assert footprint(ws, write, SimpleNamespace(path=".git/config")) is None
    assert footprint(ws, write, SimpleNamespace(content="no path")) is None
    assert footprint(ws, SimpleNamespace(kind="shell"), SimpleNamespace(path="x.py")) is None
    assert footprint(ws, SimpleNamespace(kind="mcp"), SimpleNamespace(path="x.py")) is None
