"""Real runs (scripted provider and the fake OpenAI server over HTTP): the user edits files while
a run waits for an approval and between steps; the summary, diff and revert claim only the
agent's changes, and revert leaves the user's files byte for byte."""

from __future__ import annotations

import json

from harness_ls.testing.greet import DOCS, DONE
from harness_ls.workspace import revert, run_diff
from harness_ls.workspace.changeset import full_events

from .conftest import git, next_approval

PLAN2 = {
    "text": json.dumps(
        {
            "steps": [
                {"title": "Write hello into greet.txt", "spec_line": 2},
                {"title": "Write notes for the agent", "spec_line": 2},
            ]
        }
    )
}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


async def test_user_edits_during_approval_and_between_steps_are_never_claimed(
    harness, repo, tmp_path, model
):
    (repo / "keep.txt").write_text("tracked, deleted by the user mid-run\n")
    (repo / "bin.dat").write_bytes(b"\x00\x01user-binary")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "more files")
    name = model(
        PLAN2, write("greet.txt", "hello\n"), DONE, write("agent.txt", "by the agent\n"), DONE, DOCS
    )
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    first = await next_approval(harness, meta.id)
    # the run is paused on the approval: the user works in the same tree
    (repo / "NOTES.txt").write_bytes(b"my notes\r\nwith \xff bytes\n")
    (repo / "keep.txt").unlink()
    (repo / "greet.txt").write_text("hi from the user\n")
    await harness.answer_approval(first.id, "approve", "cli")
    # what the user approved was a diff against "hi": greet.txt changed, so it asks again
    again = await next_approval(harness, meta.id)
    assert again.preview.summary.startswith("greet.txt was edited while the approval waited")
    assert "-hi from the user" in again.preview.diff
    await harness.answer_approval(again.id, "approve", "cli")
    second = await next_approval(harness, meta.id)
    # between the steps: more user edits
    (repo / "bin.dat").write_bytes(b"\x00\x02user-binary-edited")
    (repo / "NOTES.txt").write_bytes(b"my notes\r\nwith \xff bytes\nand more\n")
    await harness.answer_approval(second.id, "approve", "cli")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome

    evs = full_events(harness.store.reader("run", meta.id))
    deltas = [e for e in evs if e.type == "checkpoint.delta"]
    assert [(d.data["tool"], [f["path"] for f in d.data["files"]]) for d in deltas] == [
        ("write_file", ["greet.txt"]), ("write_file", ["agent.txt"]), ("relink_docs", []),
    ]  # fmt: skip
    summary = (harness.store.artifacts_dir(meta.id) / "summary.md").read_text()
    changed = summary.split("## Changed files", 1)[1].split("\n## ", 1)[0]
    assert "`M greet.txt`" in changed and "`A agent.txt`" in changed
    for user_file in ("NOTES.txt", "keep.txt", "bin.dat"):
        assert user_file not in changed

    d = run_diff(harness.data_dir, repo, meta.id, evs)
    assert [(c.step, c.paths) for c in d.calls] == [("1", ["greet.txt"]), ("2", ["agent.txt"])]
    assert "-hi from the user" in d.calls[0].text and "+hello" in d.calls[0].text
    assert d.user_paths == ["NOTES.txt", "bin.dat", "keep.txt"]
    from harness_ls.core.changes import run_agent_diff

    shown = run_agent_diff(harness.store, harness.data_dir, meta.id)  # the daemon's and CLI's
    assert shown.source == "checkpoints"
    dashboard = shown.diff
    assert "greet.txt" in dashboard and "NOTES.txt" not in dashboard and "bin.dat" not in dashboard

    status_before = git(repo, "status", "--porcelain")
    report = revert(harness.data_dir, repo, meta.id, evs)
    assert report.ok and report.safety_ref
    assert {f.path: f.action for f in report.files} == {
        "agent.txt": "deleted",
        "greet.txt": "restored",
    }
    assert (repo / "greet.txt").read_text() == "hi from the user\n"  # the user's last version
    assert (repo / "NOTES.txt").read_bytes() == b"my notes\r\nwith \xff bytes\nand more\n"
    assert (repo / "bin.dat").read_bytes() == b"\x00\x02user-binary-edited"
    assert not (repo / "keep.txt").exists() and not (repo / "agent.txt").exists()
    assert "agent.txt" in status_before and "agent.txt" not in git(repo, "status", "--porcelain")
    assert git(repo, "for-each-ref").count("refs/harness") == 0  # nothing in the user's refs
    again = revert(harness.data_dir, repo, meta.id, evs)
    assert not again.applied and "already undone" in again.summary()


async def test_offline_run_lists_no_user_files_as_changed(harness, repo):
    (repo / "scratch.txt").write_text("the user's untracked file\n")
    meta = await harness.start_run(str(repo), "specs/greet/spec.md")
    await harness.wait_run(meta.id, 30)
    summary = (harness.store.artifacts_dir(meta.id) / "summary.md").read_text()
    assert "The agent changed no files." in summary and "scratch.txt" not in summary
