"""Parallel attempts without Ray: each in its own checkout, run in agentd's process, verified by
the spec's acceptance tests, compared, one applied; the others leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_ls.core import Harness
from harness_ls.errors import Conflict, InvalidInput
from harness_ls.testing.greet import DOCS, DONE, PLAN

from .conftest import git, make_repo, script

SPEC = "specs/greet/spec.md"


def write(content: str) -> dict:
    return {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "greet.txt", "content": content}}
        ]
    }


@pytest.fixture
async def h(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    harness = Harness(tmp_path / "data", policy_mode="auto-edit")
    harness.options.update(verify_timeout=60.0, verify_attempts=0)
    await harness.start()
    yield harness
    await harness.close()


async def test_three_local_attempts_one_passes_it_is_applied_the_others_leave_nothing(h, tmp_path):
    repo = make_repo(tmp_path)
    (repo / "notes.txt").write_text("mine, uncommitted\n")
    models = [
        script(tmp_path, PLAN, write(text), DONE, DOCS) for text in ("helo\n", "hello\n", "hola\n")
    ]
    view = await h.start_attempts(str(repo), SPEC, 3, models=models)
    gid = view.group.id
    assert len(view.rows) == 3 and view.group.executor == "local"
    for rid in view.group.runs:
        await h.wait_run(rid, 120)
    view = h.attempts.view(gid)
    assert view.done
    assert [r.passed for r in view.rows] == [False, True, False]
    assert [r.tests for r in view.rows] == ["0/1", "1/1", "0/1"]
    assert all(r.files == 1 and r.added == 1 and r.removed == 1 for r in view.rows)
    assert all(r.tokens and r.tokens > 0 for r in view.rows)
    checkouts = [Path(r.workspace) for r in view.rows]
    assert (checkouts[1] / "notes.txt").read_text() == "mine, uncommitted\n"  # shipped along
    assert (repo / "greet.txt").read_text() == "hi\n"  # no attempt touched the work tree

    with pytest.raises(InvalidInput):
        await h.attempts.apply(gid, 4)
    report = await h.attempts.apply(gid, 2)
    assert report.ok and [f.path for f in report.files] == ["greet.txt"]
    assert (repo / "greet.txt").read_text() == "hello\n"
    assert git(repo, "status", "--porcelain") == " M greet.txt\n?? notes.txt\n"
    assert git(repo, "branch", "--format=%(refname:short)") == "main\n"
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert not any(c.exists() for c in checkouts)
    assert not (h.data_dir / "attempts" / gid).exists()
    with pytest.raises(Conflict):
        await h.attempts.apply(gid, 1)
    chosen = [e.type for e in h.store.reader("run", view.group.runs[1]).read()]
    assert chosen[-1] == "run.applied"
    from harness_ls.workspace.shadow import open_shadow

    refs = open_shadow(h.data_dir, repo).out("for-each-ref", "--format=%(refname)")
    assert view.group.runs[0] not in refs and view.group.runs[2] not in refs
    assert f"{view.group.runs[1]}/final" in refs


async def test_attempts_are_refused_with_a_clear_error_when_the_count_is_wrong(h, tmp_path):
    repo = make_repo(tmp_path)
    with pytest.raises(InvalidInput, match="2..8"):
        await h.start_attempts(str(repo), SPEC, 1)
