"""Runs on a real two-node Ray cluster, driven through the core (this process is the driver).

Placement on both nodes, a node lost mid-run (interrupted, then resumed on the other node with no
event lost or duplicated), cancel reaching the worker, a user edit made while the run was away
kept, and `--branch`. The scripted model is relayed by the control plane, as a real one would be.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness_ls.core import Harness
from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE

from .conftest import git, make_repo, script

SPEC = "specs/greet/spec.md"


@pytest.fixture
async def h(two_nodes, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    harness = Harness(tmp_path / "data", executor="ray", ray_address=two_nodes.address)
    harness.options.update(verify_timeout=60.0)
    await harness.start()
    yield harness
    await harness.close()


async def approval_of(h: Harness, run_id: str, within: float = 120.0):
    async def wait():
        async for change in h.subscribe_approvals():
            a = change.approval
            if change.kind == "requested" and a.run_id == run_id and a.status == "pending":
                return a

    return await asyncio.wait_for(wait(), within)


def events(h: Harness, run_id: str) -> list:
    return list(h.store.reader("run", run_id).read())


async def until(predicate, within: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


def actor_exists(run_id: str) -> bool:
    import ray

    try:
        ray.get_actor(f"harness-run-{run_id}", namespace="harness-ls")
    except ValueError:
        return False
    return True


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


async def test_runs_land_on_both_nodes_and_their_results_come_home(h, tmp_path):
    repos = [make_repo(tmp_path, f"r{i}") for i in range(2)]
    metas = [
        await h.start_run(str(r), SPEC, model=script(tmp_path, PLAN, WRITE, DONE, DOCS))
        for r in repos
    ]
    # each run holds its actor (one CPU) while it waits for its approval: one per node
    approvals = [await approval_of(h, m.id) for m in metas]
    nodes = {h.get_run(m.id).node for m in metas}
    assert len(nodes) == 2 and None not in nodes
    assert approvals[0].workspace == str(repos[0]) and approvals[0].preview.path == "greet.txt"
    for a in approvals:
        await h.answer_approval(a.id, "approve", "editor")
    for m, r in zip(metas, repos, strict=True):
        final = await h.wait_run(m.id, 120)
        assert final.status == "completed", final.outcome
        assert (r / "greet.txt").read_text() == "hello\n"
        evs = events(h, m.id)
        started = next(e for e in evs if e.type == "run.started")
        assert started.data["executor"] == "ray" and started.data["workspace"] == str(r)
        assert started.data["worker_workspace"] != str(r)
        applied = next(e for e in evs if e.type == "run.applied")
        assert applied.data["ok"] and [f["path"] for f in applied.data["files"]] == ["greet.txt"]
        assert [e.type for e in evs][-2:] == ["run.applied", "run.completed"]
        assert (h.store.artifacts_dir(m.id) / "summary.md").is_file()
        assert git(r, "status", "--porcelain") == " M greet.txt\n"  # index and HEAD untouched


async def test_a_lost_node_interrupts_the_run_and_resume_finishes_it_elsewhere(
    h, two_nodes, tmp_path
):
    repo = make_repo(tmp_path)
    plan2 = {"text": '{"steps": [{"title": "Write a"}, {"title": "Write hello"}]}'}
    h.policy_mode = "auto-edit"
    first = script(tmp_path, plan2, write("a.txt", "a\n"), {"text": "a done"},
                   {"text": "thinking", "delay": 30})  # fmt: skip
    meta = await h.start_run(str(repo), SPEC, model=first)
    await until(lambda: sum(e.type == "step.started" for e in events(h, meta.id)) == 3)
    await asyncio.sleep(0.3)  # the slow answer of step 2 is being relayed
    lost_on = h.get_run(meta.id).node
    before = events(h, meta.id)
    two_nodes.remove(two_nodes.node_of(lost_on.rsplit("/", 1)[1]))
    await until(lambda: h.get_run(meta.id).status == "interrupted", 60)
    stop = events(h, meta.id)[-1]
    assert stop.type == "run.interrupted" and stop.data["cause"] == "node lost"
    assert lost_on in stop.data["reason"] and stop.data["resumable"] is True
    assert (repo / "a.txt").exists() is False  # nothing came home from a lost worker

    meta2 = await h.start_run(
        str(repo), SPEC, model=script(tmp_path, WRITE, DONE, DOCS), resume=meta.id
    )
    final = await h.wait_run(meta2.id, 120)
    assert final.status == "completed", final.outcome
    assert final.node != lost_on
    evs = events(h, meta.id)
    assert evs[: len(before)] == before  # nothing lost
    assert [e.seq for e in evs] == list(range(1, len(evs) + 1))
    assert len({e.id for e in evs}) == len(evs)  # nothing duplicated
    resumed = [e for e in evs if e.type == "run.resumed"]
    assert len(resumed) == 1 and resumed[0].data["node"] == final.node
    titles = [e.data["title"] for e in evs[evs.index(resumed[0]) :] if e.type == "step.started"]
    assert titles == ["Write hello", "Update documentation"]
    assert (repo / "a.txt").read_text() == "a\n"  # the first worker's work, via the log
    assert (repo / "greet.txt").read_text() == "hello\n"


async def test_cancel_reaches_the_worker_waiting_or_streaming(h, tmp_path):
    waiting, streaming = make_repo(tmp_path, "w"), make_repo(tmp_path, "s")
    m1 = await h.start_run(str(waiting), SPEC, model=script(tmp_path, PLAN, WRITE, DONE, DOCS))
    approval = await approval_of(h, m1.id)
    slow = {"text": ["one ", "two ", "three"], "delay": 20}
    m2 = await h.start_run(str(streaming), SPEC, model=script(tmp_path, PLAN, slow))
    await until(lambda: any(e.type == "step.started" and e.data.get("phase") == "execute"
                            for e in events(h, m2.id)))  # fmt: skip
    for meta in (m1, m2):
        final = await h.cancel_run(meta.id)
        assert final.status == "cancelled"
        last = events(h, meta.id)[-1]
        # recorded by the worker's engine (it says in which phase), not by agentd for it
        assert last.type == "run.cancelled" and last.data.get("phase") == "execute"
    resolved = next(e for e in events(h, m1.id) if e.type == "approval.resolved")
    assert resolved.data["decision"] == "cancelled" and approval.id == resolved.data["approval_id"]
    assert h.pending_approvals() == []
    for meta in (m1, m2):  # the worker goes away, and nothing was applied
        await until(lambda rid=meta.id: not actor_exists(rid), 60)
    assert (waiting / "greet.txt").read_text() == "hi\n"


async def test_a_file_the_user_edits_during_a_remote_run_is_kept(h, tmp_path):
    repo = make_repo(tmp_path)
    name = script(tmp_path, PLAN, write("greet.txt", "hello\n"), write("new.txt", "new\n"),
                  DONE, DOCS)  # fmt: skip
    meta = await h.start_run(str(repo), SPEC, model=name)
    first = await approval_of(h, meta.id)
    (repo / "greet.txt").write_text("mine\n")  # the user keeps working meanwhile
    await h.answer_approval(first.id, "approve", "cli")
    second = await approval_of(h, meta.id)
    await h.answer_approval(second.id, "approve", "cli")
    final = await h.wait_run(meta.id, 120)
    assert final.status == "completed", final.outcome  # verified on the worker's tree
    assert (repo / "greet.txt").read_text() == "mine\n"  # never overwritten
    assert (repo / "new.txt").read_text() == "new\n"
    applied = next(e for e in events(h, meta.id) if e.type == "run.applied")
    assert applied.data["conflicts"] == ["greet.txt"] and applied.data["ok"] is False
    assert "kept as you left them" in applied.data["summary"]


async def test_branch_puts_the_result_on_a_branch_and_leaves_the_tree_alone(h, tmp_path):
    repo = make_repo(tmp_path)
    (repo / "notes.txt").write_text("uncommitted\n")
    h.policy_mode = "auto-edit"
    meta = await h.start_run(
        str(repo), SPEC, model=script(tmp_path, PLAN, WRITE, DONE, DOCS), branch=True
    )
    final = await h.wait_run(meta.id, 120)
    assert final.status == "completed", final.outcome
    assert (repo / "greet.txt").read_text() == "hi\n"
    assert git(repo, "status", "--porcelain") == "?? notes.txt\n"
    branch = f"harness/{meta.id}"
    assert git(repo, "show", f"{branch}:greet.txt") == "hello\n"
    assert git(repo, "show", f"{branch}~1:notes.txt") == "uncommitted\n"
    assert git(repo, "rev-parse", f"{branch}~2") == git(repo, "rev-parse", "main")
    applied = next(e for e in events(h, meta.id) if e.type == "run.applied")
    assert applied.data["branch"] == branch


async def test_three_attempts_on_ray_one_passes_it_is_applied_the_others_leave_nothing(h, tmp_path):
    repo = make_repo(tmp_path)
    h.policy_mode = "auto-edit"
    h.options.update(verify_attempts=0)
    models = [
        script(tmp_path, PLAN, write("greet.txt", text), DONE, DOCS)
        for text in ("hello\n", "helo\n", "hola\n")
    ]
    view = await h.start_attempts(str(repo), SPEC, 3, models=models)
    assert view.group.executor == "ray"
    for rid in view.group.runs:
        await h.wait_run(rid, 180)
    view = h.attempts.view(view.group.id)
    assert [r.passed for r in view.rows] == [True, False, False]
    assert all(r.node and r.files == 1 for r in view.rows)
    assert (repo / "greet.txt").read_text() == "hi\n"  # held away until one is chosen
    report = await h.attempts.apply(view.group.id, 1)
    assert report.ok and (repo / "greet.txt").read_text() == "hello\n"
    assert git(repo, "status", "--porcelain") == " M greet.txt\n"
    for rid in view.group.runs:  # no worker left anywhere
        await until(lambda rid=rid: not actor_exists(rid), 60)
