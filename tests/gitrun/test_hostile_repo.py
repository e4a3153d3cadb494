"""Every git path of the harness on a booby-trapped repository (harness_ls/testing/hostile_git.py):
the traps fire under plain git, and none fires under the harness's own git — checkpoints (the
per-call and whole-tree forms, a nested repository included), diff and revert of a run, the
git_diff tool, the summary's status, context (listing, recency, history), `init`, and gc of
refs an older version left in the user's repository."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness_ls.agent.repo import is_git_work_tree
from harness_ls.agent.summary import changed_files
from harness_ls.context import build_context
from harness_ls.errors import InvalidInput
from harness_ls.gitrun import workspace_git
from harness_ls.scaffold import init
from harness_ls.testing.hostile_git import fired, make_hostile_repo
from harness_ls.tools.git import working_tree_diff
from harness_ls.workspace import gc, revert, run_diff
from harness_ls.workspace.checkpoints import FINAL, call_after, call_before, step_checkpoint
from harness_ls.workspace.snapshot import MANY_PATHSPECS


@pytest.fixture
def trap(tmp_path: Path) -> SimpleNamespace:
    markers = tmp_path / "markers"
    ws = make_hostile_repo(
        tmp_path / "ws", markers, {"src/app.py": "def greet():\n    return 'hi'\n"}
    )
    return SimpleNamespace(ws=ws, markers=markers, data=tmp_path / "data")


def test_the_traps_fire_under_plain_git(trap: SimpleNamespace) -> None:
    """Armed: a plain git status, diff, log -p and add each run the repository's programs,
    the nested repository's included (through `add` of the tree holding it)."""
    seen: set[str] = set()
    for args in (["status"], ["diff", "HEAD"], ["log", "-p", "-1"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=trap.ws, capture_output=True, timeout=60)
        seen |= set(fired(trap.markers))
        shutil.rmtree(trap.markers)
        trap.markers.mkdir()
    assert {"filter-process", "include-fsmonitor", "gpg"} <= seen, seen
    assert any(name.startswith("nested-") for name in seen), seen


def test_the_harness_git_runs_none_of_them(trap: SimpleNamespace) -> None:
    ws, data = trap.ws, trap.data
    assert asyncio.run(is_git_work_tree(ws))
    (ws / "greet.txt").write_text("hello\n")
    (ws / "new.txt").write_text("new\n")
    diff = asyncio.run(working_tree_diff(ws))
    assert "+hello" in diff and "b/new.txt" in diff
    status = asyncio.run(changed_files(ws))
    assert " M greet.txt" in status and "?? new.txt" in status

    res = build_context(ws, "greet the user", 2000, data_dir=data)
    assert "src/app.py" in res.files

    events = [_ev("checkpoint.created", {**step_checkpoint(data, ws, "run_1", "0"), "step": 0})]
    before = call_before(data, ws, "run_1")
    (ws / "greet.txt").write_text("agent\n")
    after = call_after(data, ws, "run_1", before, paths=["greet.txt"])
    events += [_ev("checkpoint.before", {**before, "tool": "write_file"}, "c1"),
               _ev("checkpoint.delta", {**after, "tool": "write_file"}, "c1")]  # fmt: skip
    before = call_before(data, ws, "run_1")
    for i in range(MANY_PATHSPECS + 5):  # a shell call that writes many files: whole-tree add
        (ws / "gen" / f"f{i}.txt").parent.mkdir(exist_ok=True)
        (ws / "gen" / f"f{i}.txt").write_text(f"{i}\n")
    os.utime(ws / "sub" / "inner.txt")
    after = call_after(data, ws, "run_1", before)
    events += [_ev("checkpoint.before", {**before, "tool": "shell"}, "c2"),
               _ev("checkpoint.delta", {**after, "tool": "shell"}, "c2")]  # fmt: skip
    events.append(_ev("checkpoint.created", {**step_checkpoint(data, ws, "run_1", FINAL), "step": None}))  # fmt: skip
    assert "greet.txt" in run_diff(data, ws, "run_1", events).render()
    report = revert(data, ws, "run_1", events)
    assert report.ok and (ws / "greet.txt").read_text() == "hello\n"

    assert "AGENTS.md" in init(ws, dry_run=True).created
    legacy = workspace_git(ws)
    legacy.run("update-ref", "refs/harness/run_old/0", "HEAD")
    assert gc(ws, older_than="0s", data_dir=data).removed_refs >= 1
    assert legacy.run("show-ref", "--verify", "-q", "refs/harness/run_old/0").returncode != 0
    assert fired(trap.markers) == []


def _ev(type_: str, data: dict, call_id: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(type=type_, data=data, call_id=call_id, step_id="st_0")


def test_a_missing_object_is_never_fetched(tmp_path: Path) -> None:
    """A partial clone whose promisor remote is `ext::<program>`: plain git runs the program
    to fetch a missing blob; the harness's git says the object is missing (config not read,
    protocol.allow=never, GIT_NO_LAZY_FETCH)."""
    ws, marker = tmp_path / "ws", tmp_path / "lazy-fetched"
    script = tmp_path / "fetch.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    ws.mkdir()
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t",
                                                  "commit", "-qm", "i"]):  # fmt: skip
        if args[0] == "add":
            (ws / "f.txt").write_text("one\n")
        subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True)
    blob = subprocess.run(["git", "rev-parse", "HEAD:f.txt"], cwd=ws, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    (ws / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    (ws / ".git" / "config").write_text(
        "[core]\n\trepositoryformatversion = 1\n[extensions]\n\tpartialClone = origin\n"
        f'[remote "origin"]\n\turl = ext::{script} %S\n\tpromisor = true\n'
        '[protocol "ext"]\n\tallow = always\n'
    )
    (ws / "f.txt").write_text("two\n")
    subprocess.run(["git", "diff", "HEAD"], cwd=ws, capture_output=True, timeout=60)
    assert marker.exists()  # armed
    marker.unlink()
    proc = workspace_git(ws).run("diff", "HEAD")
    assert proc.returncode != 0 and b"unable to read" in proc.stderr
    with pytest.raises(InvalidInput, match="git diff failed"):
        asyncio.run(working_tree_diff(ws))
    assert not marker.exists()
