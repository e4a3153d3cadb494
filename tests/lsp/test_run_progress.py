"""RunProgress (lsp/features/run_progress.py), pure: what a run's events say, once each."""

from __future__ import annotations

from harness_ls.lsp.features.run_progress import RunProgress

STEPS = [{"id": "s1", "title": "Add route"}, {"id": "s2", "title": "Add test"}, {"id": "s3", "title": "Wire it"}]  # fmt: skip


def _said(events: list[tuple[str, dict, str | None]]) -> list[tuple[str, int]]:
    tracker = RunProgress()
    out = []
    for kind, data, step_id in events:
        now = tracker.apply(kind, data, step_id)
        if now is not None:
            out.append((now.message, now.percentage))
    return out


def test_a_three_step_run_with_a_failed_test_and_a_fix_moves_forward_once_per_change():
    events = [
        ("run.created", {}, None),
        ("run.started", {}, None),
        ("step.started", {"phase": "plan", "title": "Plan"}, "p"),
        ("step.completed", {"phase": "plan"}, "p"),
        ("plan.updated", {"steps": STEPS}, None),
        ("step.started", {"phase": "execute", "title": "Add route"}, "s1"),
        ("tool.call", {}, "s1"),
        ("step.completed", {"phase": "execute"}, "s1"),
        ("step.started", {"phase": "execute", "title": "Add test"}, "s2"),
        ("approval.requested", {"approval_id": "a1", "view": {"title": "write t.py"}}, "a1"),
        ("approval.resolved", {"approval_id": "a1", "decision": "approve"}, "a1"),
        ("step.completed", {"phase": "execute"}, "s2"),
        ("step.started", {"phase": "execute", "title": "Wire it"}, "s3"),
        ("step.completed", {"phase": "execute"}, "s3"),
        ("verify.started", {"count": 2, "attempt": 1, "commands": ["pytest -q", "ruff check"]}, None),
        ("verify.result", {"ok": False}, None),
        ("verify.result", {"ok": True}, None),
        ("step.started", {"phase": "fix", "title": "Fix failing acceptance tests (attempt 1)"}, "f1"),
        ("step.completed", {"phase": "fix"}, "f1"),
        ("verify.started", {"count": 2, "attempt": 2, "commands": ["pytest -q", "ruff check"]}, None),
        ("verify.result", {"ok": True}, None),
        ("verify.result", {"ok": True}, None),
        ("step.started", {"phase": "docs", "title": "Update documentation"}, "d"),
        ("step.completed", {"phase": "docs"}, "d"),
        ("docs.updated", {"paths": ["README.md"]}, "d"),
    ]  # fmt: skip
    assert _said(events) == [
        ("plan: planning", 0),
        ("plan: 3 steps ready", 0),
        ("execute: step 1/3 — Add route", 0),
        ("execute: 1/3 steps done", 20),
        ("execute: step 2/3 — Add test", 20),
        ("execute: step 2/3 — waiting for approval: write t.py", 20),
        ("execute: step 2/3 — Add test", 20),
        ("execute: 2/3 steps done", 40),
        ("execute: step 3/3 — Wire it", 40),
        ("execute: 3/3 steps done", 60),
        ("verify: test 1/2 — `pytest -q`", 60),
        ("verify: test 2/2 — `ruff check`", 70),
        ("verify: 1/2 passed", 80),
        ("fix: Fix failing acceptance tests (attempt 1)", 80),
        ("verify (attempt 2): test 1/2 — `pytest -q`", 80),  # never back
        ("verify (attempt 2): test 2/2 — `ruff check`", 80),
        ("verify (attempt 2): 2/2 passed", 80),
        ("docs: Update documentation", 80),
        ("docs: README.md updated", 100),
    ]


def test_offline_and_resumed_runs():
    offline = [
        ("run.started", {"offline": True}, None),
        ("plan.updated", {"steps": STEPS[:1]}, None),
        ("model.unavailable", {}, None),
        ("verify.started", {"count": 0, "attempt": 1, "commands": []}, None),
        ("docs.updated", {"paths": ["artifacts/summary.md"]}, None),
    ]
    assert _said(offline) == [
        ("plan: planning", 0),
        ("plan: 1 step ready", 0),
        ("execute: skipped (no model configured)", 33),
        ("verify: no acceptance tests to run", 66),
        ("docs: artifacts/summary.md updated", 100),
    ]
    resumed = [
        ("run.resumed", {}, None),
        ("plan.updated", {"steps": STEPS, "completed": ["s1"]}, None),
        ("step.started", {"phase": "execute", "title": "Add test"}, "s2"),
    ]
    assert _said(resumed) == [
        ("plan: planning", 0),
        ("plan: 3 steps ready, 1 already done", 20),
        ("execute: step 2/3 — Add test", 20),
    ]


def test_a_run_cancelled_while_waiting_still_says_it_was_waiting():
    tracker = RunProgress()
    tracker.apply("plan.updated", {"steps": STEPS[:1]}, None)
    tracker.apply("step.started", {"phase": "execute", "title": "Add route"}, "s1")
    tracker.apply("approval.requested", {"approval_id": "a", "view": {"title": "run make"}}, "a")
    assert (
        tracker.apply("approval.resolved", {"approval_id": "a", "decision": "cancelled"}, "a")
        is None
    )
    assert tracker.step == "waiting for approval: run make"
