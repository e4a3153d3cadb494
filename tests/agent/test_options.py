"""Harness.options is one typed RunOptions: defaults written once, bad keys refused, and a run's
copy takes the harness's policy mode unless the options name one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness_ls.agent.loop import LoopContext
from harness_ls.agent.options import DEFAULTS, RunOptions
from harness_ls.core import Harness


def test_loop_and_run_share_the_defaults():
    fields = LoopContext.__dataclass_fields__
    assert fields["max_turns"].default == DEFAULTS.max_turns == 30
    assert fields["loop_limit"].default == DEFAULTS.loop_limit == 3


def test_harness_options_are_typed_and_checked(tmp_path):
    harness = Harness(tmp_path)
    assert isinstance(harness.options, RunOptions)
    harness.options.update(verify_attempts=0, max_turns=5)
    harness.options["checkpoints"] = False
    assert (harness.options.verify_attempts, harness.options.max_turns) == (0, 5)
    assert harness.options.checkpoints is False
    with pytest.raises(ValidationError):
        harness.options.update(max_turn=5)  # a typo is an error, not a silently ignored key
    with pytest.raises(ValidationError):
        harness.options["max_turns"] = "many"


def test_a_run_takes_the_harness_policy_unless_the_options_name_one():
    assert RunOptions().for_run("plan").policy_mode == "plan"
    own = RunOptions(policy_mode="auto-edit")
    assert own.for_run("plan").policy_mode == "auto-edit"
    assert own.for_run("plan") is not own
