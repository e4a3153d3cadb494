"""Where per-call checkpoints apply: off when `checkpoints` is False, in a plain (non-git)
directory through the shadow repo, and around a chat session's mutating tool calls."""

from __future__ import annotations

import json

from harness_ls.testing.greet import DOCS, DONE

from .conftest import events, next_approval, script

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
