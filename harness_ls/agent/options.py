"""How runs and chat sessions are tuned, typed once with its defaults (issue 33).

`Harness.options` is one of these; a run gets a copy (with the harness's policy mode when the
options name none), a chat session reads the keys that apply to it. The module imports nothing
of agent/, so loop.py can take its defaults from here and no default is written twice.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class RunOptions(BaseModel):
    """Run and session tuning; unknown keys are refused, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_turns: int = 30  # model turns per step (per message, in a session)
    verify_attempts: int = 2  # fix rounds after a failing verify
    loop_limit: int = 3  # same failing tool call this many times → stop
    shell_timeout: float = 120.0
    verify_timeout: float = 600.0
    policy_mode: str | None = None
    docs: bool = True
    plan_with_model: bool = True
    checkpoints: bool = True  # git snapshot before each step + a final one (workspace/)
    context_tokens: int = 4000  # repo map + excerpts in the prompts; 0 = none
    localize: bool | None = None  # model picks files first; None: [context] localize (on)

    def update(self, **changes: Any) -> None:
        """Set several options at once, each checked (hosts and tests tune a harness so)."""
        for name, value in changes.items():
            setattr(self, name, value)

    def __setitem__(self, name: str, value: Any) -> None:
        """`options["checkpoints"] = False`, as when options were a dict; checked likewise."""
        setattr(self, name, value)

    def for_run(self, policy_mode: str | None) -> RunOptions:
        """A run's own copy: `policy_mode` (the harness's) unless these options name one."""
        run = self.model_copy()
        if run.policy_mode is None:
            run.policy_mode = policy_mode
        return run


DEFAULTS = RunOptions()
