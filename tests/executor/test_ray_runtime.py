"""The runtime's end-to-end scenarios (tests/agent/test_runs.py) once more, on the Ray executor:
the same test functions, with a harness whose runs execute as Ray actors on the shared cluster.
Left out: scenarios about the in-process host itself (its shutdown, a second run in one tree), and
the masking of a `.env.local` the agent reads: on Ray that file never leaves agentd's machine
(test_ray_agentd.py). A worker is slower to reach than a task, so the waits here are longer."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_ls.core import Harness
from tests.agent import test_runs as local
from tests.agent.conftest import ModelUnderTest

from .conftest import make_repo


@pytest.fixture
async def harness(two_nodes, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    h = Harness(tmp_path / "data", executor="ray", ray_address=two_nodes.address)
    h.options.update(verify_timeout=60.0)
    await h.start()
    slow = h.wait_run
    monkeypatch.setattr(h, "wait_run", lambda rid, within=None: slow(rid, max(within or 0, 240)))
    original = local.next_approval
    monkeypatch.setattr(
        local, "next_approval", lambda hh, owner, within=0: original(hh, owner, 240)
    )
    yield h
    await h.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def model(tmp_path: Path) -> ModelUnderTest:
    return ModelUnderTest("scripted", tmp_path)


test_full_run_edits_asks_is_approved_and_verifies_green = (
    local.test_full_run_edits_asks_is_approved_and_verifies_green
)
test_denied_write_is_refused_and_verify_fails = local.test_denied_write_is_refused_and_verify_fails
test_failing_acceptance_test_is_retried_then_fails = (
    local.test_failing_acceptance_test_is_retried_then_fails
)
test_cancel_mid_step_cancels_pending_approval = local.test_cancel_mid_step_cancels_pending_approval
test_offline_run_plans_skips_execute_verifies_and_summarizes = (
    local.test_offline_run_plans_skips_execute_verifies_and_summarizes
)
test_approve_similar_allows_similar_calls_for_the_rest_of_the_run = (
    local.test_approve_similar_allows_similar_calls_for_the_rest_of_the_run
)
