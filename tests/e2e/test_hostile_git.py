"""The harness's own git on a hostile repository, end to end (rows 2 and 5 of issue 31): a real
agentd (token auth), the fake OpenAI server scripting a hostile model, every approval denied.

1. A repository whose `.git/config` names a program for every key git runs one from (fsmonitor,
   hooks, pagers, external diff, textconv and filter drivers routed by .gitattributes, ssh,
   credential, gpg with a signed HEAD, an include of a work-tree file, a nested repository with
   the same traps; harness_ls/testing/hostile_git.py), as if planted by an earlier escape. The
   run builds context, writes (checkpoints around the call, the nested repository included),
   calls git_diff, asks for a shell `git status` (denied), runs the docs step's status; then
   `agentctl diff`, `revert`, `context`, `init --dry-run` and `checkpoints gc`. Not one trap runs.
2. Row 5: in a plain directory (mode auto-edit) the model writes HEAD, a config with
   `core.worktree = .` and every trap, objects/ and refs/. The directory stays plain for the
   harness — this run and the next — while a plain `git status` there does fire the traps.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness_ls.gitrun import workspace_git
from harness_ls.testing.hostile_git import bare_layout_config, fired, make_hostile_repo
from tests.e2e.helpers import (
    SPEC,
    TERMINAL,
    run_denying,
    scripted_agentd,
)

TOKEN = "tok-e2e-hostile-git-7c6b5a4d3e2f"
AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("hostile-git"), TOKEN, "auto-edit") as d:
        yield d


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _run(daemon, ws: Path, *turns: dict[str, Any]) -> tuple[str, dict, list[dict], list[dict]]:
    """Start a run with the model's answers queued; deny every approval until it ends."""
    r = run_denying(daemon, TOKEN, ws, *turns)
    return r.run_id, r.final, r.events, r.asked


def _results(events: list[dict]) -> dict[str, dict]:
    """tool name -> its (last) tool.result data."""
    names = {e["call_id"]: e["data"]["name"] for e in events if e["type"] == "tool.call"}
    return {names[e["call_id"]]: e["data"] for e in events
            if e["type"] == "tool.result" and e["call_id"] in names}  # fmt: skip


def _ctl(daemon, ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGENTCTL, *args], cwd=ws, env=daemon.extra["env"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_a_booby_trapped_repository_runs_none_of_its_programs(daemon, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    ws = make_hostile_repo(tmp_path / "ws", markers, {"specs/greet/spec.md": SPEC})
    armed = tmp_path / "armed-copy"
    shutil.copytree(ws, armed, symlinks=True)
    subprocess.run(["git", "status"], cwd=armed, capture_output=True, timeout=60)
    assert fired(markers), "the traps must fire under a plain git status"
    shutil.rmtree(markers)
    markers.mkdir()

    rid, final, events, asked = _run(
        daemon, ws,
        {"tool_calls": [_call("write_file", path="greet.txt", content="hello\n"),
                        _call("write_file", path="sub/inner.txt", content="agent\n"),
                        _call("git_diff"),
                        _call("shell", command="git status")]},
    )  # fmt: skip
    assert fired(markers) == [], "the harness's git ran the repository's programs"
    assert final["status"] in TERMINAL
    assert [a["tool"] for a in asked] == ["shell"]  # the writes ran (auto-edit), shell was denied
    results = _results(events)
    assert results["git_diff"]["ok"] and "+hello" in results["git_diff"]["output"]
    kinds = {e["type"] for e in events}
    assert {"context.built", "checkpoint.before", "checkpoint.delta", "checkpoint.created"} <= kinds
    bad = [e["data"] for e in events if e["type"] == "log" and e["data"].get("code") in
           ("checkpoint.failed", "context.failed")]  # fmt: skip
    assert bad == []

    diff = _ctl(daemon, ws, "diff", rid)
    assert diff.returncode == 0 and "+hello" in diff.stdout, diff.stderr
    revert = _ctl(daemon, ws, "revert", "--json", rid)
    assert revert.returncode == 0, revert.stderr
    assert (ws / "greet.txt").read_text() == "hi\n" and json.loads(revert.stdout)["ok"]
    context = _ctl(daemon, ws, "context", "--task", "greet the user")
    assert context.returncode == 0 and "greet.txt" in context.stdout, context.stderr
    init = _ctl(daemon, ws, "init", "--dry-run")
    assert init.returncode == 0, init.stderr
    legacy = workspace_git(ws)  # a ref an older harness left in the user's repository
    assert legacy.run("update-ref", "refs/harness/run_legacy/0", "HEAD").returncode == 0
    gc = _ctl(daemon, ws, "checkpoints", "gc", "--older-than", "0s")
    assert gc.returncode == 0, gc.stderr
    assert legacy.run("show-ref", "-q", "--verify", "refs/harness/run_legacy/0").returncode == 1
    assert fired(markers) == []


def test_a_plain_directory_stays_plain_when_the_agent_writes_a_repository_into_it(
    daemon, tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    ws = tmp_path / "plain"
    (ws / "specs" / "greet").mkdir(parents=True)
    (ws / "specs" / "greet" / "spec.md").write_text(SPEC)
    (ws / "greet.txt").write_text("hi\n")
    layout = [_call("write_file", path="HEAD", content="ref: refs/heads/main\n"),
              _call("write_file", path="config", content=bare_layout_config(markers)),
              _call("write_file", path="objects/info/keep", content=""),
              _call("write_file", path="refs/heads/keep", content=""),
              _call("write_file", path="greet.txt", content="hello\n"),
              _call("git_diff"),
              _call("shell", command="git status")]  # fmt: skip
    rid, final, events, asked = _run(daemon, ws, {"tool_calls": layout})
    assert fired(markers) == [], "the harness's git took the directory for a repository"
    assert final["status"] in TERMINAL
    assert [a["tool"] for a in asked] == ["shell"]
    assert (ws / "config").read_text() == bare_layout_config(markers)  # the writes did run
    results = _results(events)
    assert not results["git_diff"]["ok"] and "not a git repository" in results["git_diff"]["output"]
    notes = [
        e for e in events if e["type"] == "log" and e["data"].get("code") == "workspace.not_git"
    ]
    assert notes
    assert fired(markers) == []

    rid2, final2, events2, _ = _run(daemon, ws, {"tool_calls": [_call("git_diff")]})
    assert final2["status"] in TERMINAL
    assert [
        e for e in events2 if e["type"] == "log" and e["data"].get("code") == "workspace.not_git"
    ]
    assert "not a git repository" in _results(events2)["git_diff"]["output"]
    for args in (("diff", rid), ("context", "--task", "greet"),
                 ("checkpoints", "gc", "--older-than", "0s")):  # fmt: skip
        assert _ctl(daemon, ws, *args).returncode == 0
    assert fired(markers) == []

    subprocess.run(["git", "status"], cwd=ws, capture_output=True, timeout=60)
    assert fired(markers), "what the agent wrote is a live trap for git's own discovery"
