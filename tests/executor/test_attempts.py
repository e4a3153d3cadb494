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


def test_agentctl_runs_attempts_shows_them_side_by_side_and_applies_one(tmp_path):
    """`agentctl run --attempts 2 --models … --follow` against a real agentd (no Ray)."""
    import subprocess
    import sys

    from harness_ls.testing.greet import clean_env
    from tests.http.test_agentd import AGENTD, wait_url

    repo = make_repo(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.toml").write_text('mode = "auto-edit"\n')
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data))
    proc = subprocess.Popen([*AGENTD, "--listen", "127.0.0.1:0", "--no-auth"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        url = wait_url(proc)
        models = ",".join(
            script(tmp_path, PLAN, write(t), DONE, DOCS) for t in ("hello\n", "hola\n")
        )

        def ctl(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "harness_ls.cli.agentctl", "--url", url, *args],
                                  cwd=repo, env=env, capture_output=True, text=True, timeout=180)  # fmt: skip

        out = ctl("run", "--spec", SPEC, "--attempts", "2", "--models", models, "--follow")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].split()[:4] == ["#", "RESULT", "TESTS", "FILES"]
        assert lines[1].split()[:3] == ["1", "passed", "1/1"]
        assert lines[2].split()[:3] == ["2", "failed", "0/1"]
        gid = next(w for w in out.stderr.split() if w.startswith("att_")).rstrip(":")
        assert f"agentctl attempts apply {gid} 1" in out.stderr
        assert (repo / "greet.txt").read_text() == "hi\n"
        listed = ctl("attempts")
        assert gid in listed.stdout and "done" in listed.stdout
        applied = ctl("attempts", "apply", gid, "1")
        assert applied.returncode == 0, applied.stderr
        assert "attempt 1: applied 1 file(s)" in applied.stdout
        assert (repo / "greet.txt").read_text() == "hello\n"
        assert "applied #1" in ctl("attempts").stdout
        again = ctl("attempts", "apply", gid, "2")
        assert again.returncode != 0 and "already applied" in again.stderr
    finally:
        proc.terminate()
        proc.wait(30)
