"""Runs in real temporary git repos, each with the scripted provider and over HTTP with the fake
OpenAI server (the `model` fixture)."""

from __future__ import annotations

import asyncio
import json

import pytest

from harness_ls.errors import Conflict, InvalidInput
from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE

from .conftest import events, git, next_approval, types


async def test_full_run_edits_asks_is_approved_and_verifies_green(harness, repo, tmp_path, model):
    (repo / "AGENTS.md").write_text("# Agents\n\nRun tests with grep.\n")
    name = model(PLAN, WRITE, DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    approval = await next_approval(harness, meta.id)
    assert approval.tool == "write_file" and approval.id.startswith("st_")
    assert approval.preview.path == "greet.txt" and "+hello" in approval.preview.diff
    assert approval.spec_path == "specs/greet/spec.md" and approval.spec_line == 2
    assert harness.get_run(meta.id).status == "waiting_approval"
    await harness.answer_approval(approval.id, "approve", "editor", "ok")
    with pytest.raises(Conflict, match=r"already answered \(by editor, approve\)"):
        await harness.answer_approval(approval.id, "deny", "dashboard")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    assert (repo / "greet.txt").read_text() == "hello\n"
    t = types(harness, meta.id)
    for expected in ("run.started", "plan.updated", "step.started", "tool.call", "approval.requested",
                     "approval.resolved", "tool.result", "step.completed", "verify.started",
                     "verify.result", "docs.updated", "artifact.written", "run.completed"):  # fmt: skip
        assert expected in t, expected
    evs = events(harness, meta.id)
    resolved = next(e for e in evs if e.type == "approval.resolved")
    assert resolved.data["surface"] == "editor" and resolved.data["decision"] == "approve"
    verify = [e for e in evs if e.type == "verify.result"]
    assert len(verify) == 1 and verify[0].data["ok"] is True
    done = [e for e in evs if e.type == "step.completed" and e.data.get("phase") == "execute"]
    assert done[0].data["usage"]["model_calls"] == 2 and done[0].data["duration_ms"] >= 0
    summary = harness.store.artifacts_dir(meta.id) / "summary.md"
    assert "1 acceptance test(s) passed" in summary.read_text()
    # AGENTS.md reaches the system prompt (checked on the HTTP variant's request bodies)
    if model.server is not None:
        assert "Run tests with grep" in model.server.requests[1]["messages"][0]["content"]
    # checkpoints: one before the step (and the docs step), a final one, plus one delta per
    # mutating tool call; the step's diff is that call's delta
    checkpoints = [e.data for e in evs if e.type == "checkpoint.created"]
    assert [c["name"] for c in checkpoints] == ["1", "2", "final"]
    deltas = [e for e in evs if e.type == "checkpoint.delta" and e.data["files"]]
    assert [[f["path"] for f in d.data["files"]] for d in deltas] == [["greet.txt"]]
    from harness_ls.workspace import run_diff

    step1 = run_diff(harness.data_dir, repo, meta.id, evs, 1)
    assert [c.paths for c in step1.calls] == [["greet.txt"]] and "+hello" in step1.calls[0].text
    assert git(repo, "status", "--porcelain") == " M greet.txt\n?? AGENTS.md\n"  # index untouched


async def test_denied_write_is_refused_and_verify_fails(harness, repo, tmp_path, model):
    name = model(PLAN, WRITE, {"text": "The user denied the write; stopping."}, DOCS)
    harness.options.update(verify_attempts=0)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    approval = await next_approval(harness, meta.id)
    await harness.answer_approval(approval.id, "deny", "dashboard", "not now")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "failed" and "acceptance tests failed" in final.outcome
    assert (repo / "greet.txt").read_text() == "hi\n"
    refused = [e for e in events(harness, meta.id) if e.type == "tool.refused"]
    assert refused and "denied by dashboard: not now" in refused[0].data["reason"]


async def test_failing_acceptance_test_is_retried_then_fails(harness, repo, tmp_path, model):
    wrong = {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "greet.txt", "content": "helo\n"}}
        ]
    }
    name = model(PLAN, wrong, DONE, wrong, {"text": "Tried again."}, DOCS)
    harness.options.update(verify_attempts=1, policy_mode="auto-edit")
    harness.policy_mode = "auto-edit"
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "failed"
    evs = events(harness, meta.id)
    results = [e.data for e in evs if e.type == "verify.result"]
    assert [(r["attempt"], r["ok"]) for r in results] == [(1, False), (2, False)]
    fix = [e for e in evs if e.type == "step.started" and e.data.get("phase") == "fix"]
    assert len(fix) == 1
    failed = evs[-1]
    assert failed.type == "run.failed" and "acceptance tests failed: 1 of 1" in failed.data["error"]
    # the fix step told the model what failed
    assert (
        "grep -qx hello greet.txt"
        in (harness.store.artifacts_dir(meta.id) / "summary.md").read_text()
    )


async def test_cancel_mid_step_cancels_pending_approval(harness, repo, tmp_path, model):
    name = model(PLAN, WRITE, DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    approval = await next_approval(harness, meta.id)
    final = await harness.cancel_run(meta.id)
    assert final.status == "cancelled"
    assert harness.pending_approvals() == []
    with pytest.raises(Conflict, match="cancelled"):
        await harness.answer_approval(approval.id, "approve", "cli")
    t = types(harness, meta.id)
    assert t[-1] == "run.cancelled" and "approval.resolved" in t
    with pytest.raises(Conflict, match="already cancelled"):
        await harness.cancel_run(meta.id)


async def test_path_escapes_are_refused_as_events(harness, repo, tmp_path, model):
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "link").symlink_to(outside)
    attempts = [
        {"name": "write_file", "arguments": {"path": "../escape.txt", "content": "x"}},
        {"name": "write_file", "arguments": {"path": str(outside / "abs.txt"), "content": "x"}},
        {"name": "write_file", "arguments": {"path": "link/sym.txt", "content": "x"}},
        {"name": "read_file", "arguments": {"path": "../../etc/passwd"}},
        {"name": "write_file", "arguments": {"path": ".git/config", "content": "x"}},
    ]
    name = model(PLAN, {"tool_calls": attempts}, DONE, DOCS)
    harness.options.update(verify_attempts=0)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "failed"  # greet.txt untouched → acceptance test fails
    refused = [e for e in events(harness, meta.id) if e.type == "tool.refused"]
    assert len(refused) == 5, [e.data for e in refused]
    assert not list(outside.iterdir()) and not (tmp_path / "escape.txt").exists()
    assert "approval.requested" not in types(harness, meta.id)


async def test_model_looping_on_same_failing_call_is_stopped(harness, repo, tmp_path, model):
    bad = {"tool_calls": [{"name": "read_file", "arguments": {"path": "missing.txt"}}]}
    name = model(PLAN, bad, bad, bad, bad)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    final = await harness.wait_run(meta.id, 30)
    assert (
        final.status == "failed"
        and "repeated the same failing read_file call 3 times" in final.outcome
    )
    logs = [
        e
        for e in events(harness, meta.id)
        if e.type == "log" and e.data.get("code") == "loop_detected"
    ]
    assert len(logs) == 1


async def test_invalid_tool_arguments_go_back_to_the_model(harness, repo, tmp_path, model):
    bad = {"tool_calls": [{"name": "write_file", "arguments": {"path": "greet.txt"}}]}
    name = model(PLAN, bad, DONE, DOCS)
    harness.options.update(verify_attempts=0)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    await harness.wait_run(meta.id, 30)
    result = next(e for e in events(harness, meta.id) if e.type == "tool.result")
    assert result.data["ok"] is False and result.data["error_code"] == "invalid_args"
    assert "content" in result.data["output"]


async def test_bad_input_is_refused_before_the_run_starts(harness, repo, tmp_path):
    with pytest.raises(InvalidInput, match="not found"):  # a plain dir is fine; its spec is not
        plain = tmp_path / "plain"
        plain.mkdir()
        await harness.start_run(str(plain), "spec.md")
    with pytest.raises(InvalidInput, match="not a directory"):
        await harness.start_run(str(repo / "greet.txt"), "spec.md")
    with pytest.raises(InvalidInput, match="does not exist"):
        await harness.start_run(str(tmp_path / "nope"), "spec.md")
    with pytest.raises(InvalidInput, match="not found"):
        await harness.start_run(str(repo), "specs/missing/spec.md")
    (repo / "bad.md").write_text("# Goal\n\nx\n")
    with pytest.raises(InvalidInput, match="problem") as exc:
        await harness.start_run(str(repo), "bad.md")
    assert any(p["severity"] == "error" for p in exc.value.details)
    assert harness.list_runs() == []


async def test_resume_continues_after_the_last_completed_step(harness, repo, tmp_path, model):
    plan2 = {"text": '{"steps": [{"title": "Step one"}, {"title": "Write hello"}]}'}
    slow = {"text": "thinking", "delay": 5}
    name = model(plan2, {"text": "step one done"}, slow)
    harness.policy_mode = "auto-edit"
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    for _ in range(500):  # until the slow answer for the second step is being streamed
        started = [e for e in events(harness, meta.id) if e.type == "step.started"]
        if len(started) == 3 and model.requests() in (None, 3):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    await harness.close()  # the host stops: the run is interrupted, resumable
    assert harness.get_run(meta.id).status == "interrupted"
    name2 = model(WRITE, DONE, DOCS)
    meta2 = await harness.start_run(str(repo), "specs/greet/spec.md", model=name2, resume=meta.id)
    assert meta2.id == meta.id
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    evs = events(harness, meta.id)
    resumed_at = [e.type for e in evs].index("run.resumed")
    started = [e.data["title"] for e in evs[resumed_at:] if e.type == "step.started"]
    assert started == ["Write hello", "Update documentation"]
    assert (repo / "greet.txt").read_text() == "hello\n"


async def test_offline_run_plans_skips_execute_verifies_and_summarizes(harness, repo):
    (repo / "greet.txt").write_text("hello\n")  # already done, so verify passes
    meta = await harness.start_run(str(repo), "specs/greet/spec.md")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    evs = events(harness, meta.id)
    t = [e.type for e in evs]
    assert t.index("plan.updated") < t.index("model.unavailable") < t.index("verify.result")
    unavailable = next(e for e in evs if e.type == "model.unavailable")
    assert "OPENAI_API_KEY" in unavailable.data["hint"]
    plan = next(e for e in evs if e.type == "plan.updated").data["steps"]
    assert (
        plan[-1]["title"].startswith("Make the acceptance tests pass")
        and plan[-1]["spec_line"] == 10
    )
    summary = (harness.store.artifacts_dir(meta.id) / "summary.md").read_text()
    assert "execute was skipped" in summary and "OPENAI_API_KEY" in summary


async def test_offline_run_with_failing_tests_fails_plainly(harness, repo):
    meta = await harness.start_run(str(repo), "specs/greet/spec.md")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "failed"
    assert "execute was skipped: no model configured" in final.outcome


async def test_spec_without_runnable_tests_says_so(harness, repo, tmp_path):
    spec = "# Goal\n\nSay hi.\n\n# Constraints / nuances\n\n- none\n\n# Acceptance tests\n\n- the greeting reads well\n"
    (repo / "soft.md").write_text(spec)
    meta = await harness.start_run(str(repo), "soft.md")  # a prose test item is valid
    final = await harness.wait_run(meta.id, 30)
    assert "no runnable acceptance tests" in final.outcome
    logs = [
        e
        for e in events(harness, meta.id)
        if e.type == "log" and e.data.get("code") == "verify.no_tests"
    ]
    assert logs


async def test_two_surfaces_answering_one_run_approval_exactly_one_wins(
    harness, repo, tmp_path, model
):
    name = model(PLAN, WRITE, DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    approval = await next_approval(harness, meta.id)

    async def answer(surface: str, decision: str) -> str:
        try:
            await harness.answer_approval(approval.id, decision, surface)
            return "won"
        except Conflict:
            return "conflict"

    def answer_from_thread() -> str:  # a host running in another thread
        try:
            harness.broker.answer(approval.id, "approve", "editor")
            return "won"
        except Conflict:
            return "conflict"

    outcomes = await asyncio.gather(
        asyncio.to_thread(answer_from_thread), answer("dashboard", "deny")
    )
    assert sorted(outcomes) == ["conflict", "won"]
    await harness.wait_run(meta.id, 30)
    resolved = [e for e in events(harness, meta.id) if e.type == "approval.resolved"]
    assert len(resolved) == 1
    winner = "editor" if outcomes[0] == "won" else "dashboard"
    assert resolved[0].data["surface"] == winner


async def test_second_run_in_the_same_workspace_is_refused_while_one_runs(
    harness, repo, tmp_path, model
):
    name = model(PLAN, WRITE, DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    await next_approval(harness, meta.id)
    with pytest.raises(Conflict, match="already running"):
        await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    await harness.cancel_run(meta.id)


async def test_offline_run_resumed_with_a_model_executes_the_skipped_steps(
    harness, repo, tmp_path, model
):
    meta = await harness.start_run(str(repo), "specs/greet/spec.md")
    assert (await harness.wait_run(meta.id, 30)).status == "failed"
    harness.policy_mode = "auto-edit"
    name = model(WRITE, DONE, {"text": "step two: nothing left"}, DONE, DOCS)
    await harness.start_run(str(repo), "specs/greet/spec.md", model=name, resume=meta.id)
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    assert (repo / "greet.txt").read_text() == "hello\n"


async def test_approve_similar_allows_similar_calls_for_the_rest_of_the_run(
    harness, repo, tmp_path, model
):
    two = {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "notes/a.txt", "content": "a"}},
            {"name": "write_file", "arguments": {"path": "notes/b.txt", "content": "b"}},
        ]
    }
    name = model(PLAN, two, WRITE, DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    first = await next_approval(harness, meta.id)
    assert first.preview.path == "notes/a.txt"
    await harness.answer_approval(first.id, "approve", "cli", scope="similar")
    second = await next_approval(harness, meta.id)
    assert second.preview.path == "greet.txt"  # notes/b.txt did not ask
    await harness.answer_approval(second.id, "approve", "cli")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    assert (repo / "notes/b.txt").read_text() == "b"
    calls = [e.data for e in events(harness, meta.id) if e.type == "tool.call"]
    assert calls[1]["arguments"]["path"] == "notes/b.txt"
    assert calls[1]["action"] == "allow" and calls[1]["rule"].startswith("session")


async def test_unusable_model_plan_falls_back_to_the_spec_plan(harness, repo, tmp_path, model):
    harness.policy_mode = "auto-edit"
    name = model({"text": "Sure! I'll do my best."}, WRITE, DONE, {"text": "nothing left"}, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    evs = events(harness, meta.id)
    plan = next(e for e in evs if e.type == "plan.updated")
    assert plan.data["source"] == "spec"
    assert any(e.type == "log" and e.data.get("code") == "plan.unparsed" for e in evs)


async def test_secrets_in_tool_output_are_masked_in_events_and_for_the_model(
    harness, repo, tmp_path, model, monkeypatch
):
    secret = "sk-test-" + "a1b2c3d4" * 4
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    (repo / ".env.local").write_text(f"OPENAI_API_KEY={secret}\n")
    read = {"tool_calls": [{"name": "read_file", "arguments": {"path": ".env.local"}}]}
    name = model(PLAN, read, DONE, DOCS)
    harness.options.update(verify_attempts=0)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    approval = await next_approval(harness, meta.id)  # a secret file: reading it asks, by name
    assert approval.tool == "read_file" and "secret file .env.local" in approval.preview.summary
    await harness.answer_approval(approval.id, "approve", "cli")
    await harness.wait_run(meta.id, 30)
    log = (harness.store.stream_dir("run", meta.id) / "events.ndjson").read_text()
    assert secret not in log and "OPENAI_API_KEY=" in log
    if model.server is not None:
        assert secret not in json.dumps(model.server.requests)  # tool result and repo context


async def test_unusable_model_is_refused_before_a_run_is_created(harness, repo, monkeypatch):
    from harness_ls.errors import HarnessError

    with pytest.raises(HarnessError, match="nonsense-model"):
        await harness.start_run(str(repo), "specs/greet/spec.md", model="nonsense-model")
    monkeypatch.setenv("HARNESS_MODEL", "anthropic:claude-sonnet-4")
    with pytest.raises(HarnessError, match="ANTHROPIC_API_KEY"):
        await harness.start_run(str(repo), "specs/greet/spec.md")
    assert harness.list_runs() == []
