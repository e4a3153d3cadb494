"""Verify: run the spec's acceptance tests with the shell tool, one `verify.result` each.

The commands are shell written in a file that may come from a cloned repository, so they pass the
same gate as the agent's shell calls: deny -> not run (a refusal, not a pass), ask -> an approval
through the broker (`approve`), allow -> run. `agentctl init` trusts a policy allowing the common
test runners, and read-only inspection commands on workspace files (`grep -qx hello greet.txt`)
are reads, so the usual acceptance tests need no approval.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from harness_ls.errors import HarnessError, InvalidInput, Refused

OUTPUT_TAIL = 4000


class VerifyResult(BaseModel):
    command: str
    line: int
    ok: bool
    exit_code: int | None = None
    duration_ms: float = 0.0
    output: str = ""
    refused: str | None = None  # why it did not run
    policy: dict[str, Any] | None = None  # the gate's decision: action, rule, parsed parts


# Asked when the policy says "ask": (test, shell args, decision) -> None to run, or why not.
Approve = Callable[[Any, Any, Any], Awaitable[str | None]]


def _shell_args(tool: Any, command: str, timeout: float) -> Any:
    from harness_ls.tools import parse_args

    try:
        return parse_args(tool, {"command": command, "timeout": timeout})
    except InvalidInput:
        return parse_args(tool, {"command": command})


def _exit_code(result: Any) -> int | None:
    data = getattr(result, "data", None) or {}
    for key in ("exit_code", "returncode", "code"):
        if isinstance(data.get(key), int):
            return data[key]
    return 0 if result.ok else None


async def run_one(
    tool_ctx: Any, policy: Any, test: Any, limit_s: float, approve: Approve | None = None
) -> VerifyResult:
    """Gate then run one test. `approve=None` means the user already chose this exact command
    (an editor lens click), so "ask" runs; a deny is refused either way."""
    from harness_ls.tools import TOOLS

    shell = TOOLS["shell"]
    base = {"command": test.command, "line": test.line}
    try:
        args = _shell_args(shell, test.command, limit_s)
    except InvalidInput as exc:
        return VerifyResult(**base, ok=False, refused=exc.one_line())
    decision = policy.decide("shell", args)
    record = _record(decision)
    base["policy"] = record
    if decision.action == "deny":
        return VerifyResult(**base, ok=False, refused=f"denied by policy ({decision.rule})")
    if decision.action == "ask" and approve is not None:
        why_not = await approve(test, args, decision)
        if why_not is not None:
            return VerifyResult(**base, ok=False, refused=why_not)
    started = time.perf_counter()
    if decision.action == "ask" and hasattr(tool_ctx, "with_reveal"):  # approved or clicked
        tool_ctx = tool_ctx.with_reveal(getattr(decision, "secrets", None) or [])
    try:
        result = await shell.run(tool_ctx, args)
    except Refused as exc:
        return VerifyResult(**base, ok=False, refused=exc.one_line())
    except HarnessError as exc:
        return VerifyResult(**base, ok=False, output=exc.one_line())
    ms = round((time.perf_counter() - started) * 1000, 1)
    from harness_ls.models import mask_secrets

    output = mask_secrets(result.output[-OUTPUT_TAIL:])
    return VerifyResult(
        **base, ok=bool(result.ok), exit_code=_exit_code(result), duration_ms=ms, output=output
    )


def _record(decision: Any) -> dict[str, Any]:
    if hasattr(decision, "record"):
        return decision.record()
    return {"action": decision.action, "rule": decision.rule}


async def run_verify(
    stream: Any,
    tool_ctx: Any,
    policy: Any,
    tests: list[Any],
    *,
    limit_s: float,
    attempt: int,
    step_id: str | None = None,
    approve: Approve | None = None,
) -> list[VerifyResult]:
    """Run every acceptance test in order; says plainly when there is nothing to run."""
    await stream.append(
        "verify.started",
        {"count": len(tests), "attempt": attempt, "commands": [t.command for t in tests]},
        step_id=step_id,
    )
    if not tests:
        await stream.append(
            "log",
            {
                "level": "warning",
                "code": "verify.no_tests",
                "message": "no runnable acceptance tests: the spec's `# Acceptance tests` has no "
                "commands (inline code in list items or fenced shell blocks), so nothing was verified",
            },
            step_id=step_id,
        )
        return []
    results = []
    for test in tests:
        res = await run_one(tool_ctx, policy, test, limit_s, approve)
        results.append(res)
        await stream.append(
            "verify.result", {**res.model_dump(), "attempt": attempt}, step_id=step_id
        )
    return results


async def approve_test(engine: Any, test: Any, args: Any, decision: Any) -> str | None:
    """An acceptance test the policy asks about waits for an approval like a tool call: None
    when approved, else why not (a cancelled approval cancels the run)."""
    import asyncio

    from harness_ls.agent.ids import new_id
    from harness_ls.tools import TOOLS

    resolution = await engine.harness.broker.request(
        stream=engine.stream,
        id=new_id("st"),
        tool="shell",
        preview=TOOLS["shell"].preview(engine.tool_ctx, args),
        run_id=engine.run_id,
        workspace=str(engine.workspace),
        spec_path=engine.spec_path,
        spec_line=getattr(test, "line", None),
        data={"phase": "verify", "policy": decision.record()},
    )
    if resolution.decision == "cancelled":
        raise asyncio.CancelledError("approval cancelled")
    if resolution.approved:
        return None
    from harness_ls.agent.holds import identity

    engine.holds.deny(identity("shell", args, engine.workspace))  # holds for the whole run
    return f"denied by {resolution.surface}" + (f": {resolution.note}" if resolution.note else "")
