"""One step of a run (a plan step, a fix attempt or the docs step): its events, its checkpoint,
and the agent loop that does it — or, for the step a crash interrupted, the loop's replay."""

from __future__ import annotations

import time
from typing import Any

from harness_ls.agent.loop import LoopContext, run_loop
from harness_ls.agent.plan import PlanStep
from harness_ls.agent.replay import StepReplay, resume_loop
from harness_ls.errors import HarnessError


async def execute_step(engine: Any, step: PlanStep, prompt: str, kind: str = "execute") -> str:
    """Run `step` of the RunEngine `engine` through the agent loop; its final text."""
    from harness_ls.models import Message
    from harness_ls.tools import TOOLS

    engine.phase = kind
    started = time.monotonic()
    replay = replay_for(engine, step, kind)
    extra = replay.started_data() if replay is not None else {}
    await engine.stream.append(
        "step.started",
        {"phase": kind, "title": step.title, "spec_line": step.spec_line, **extra},
        step_id=step.id,
    )
    await engine._checkpoint(step)
    engine.messages.append(Message(role="user", content=prompt))
    ctx = LoopContext(
        stream=engine.stream,
        provider=engine.resolved.provider,
        model=engine.resolved.info.id,
        model_info=engine.resolved.info,
        tool_ctx=engine.tool_ctx,
        policy=engine.policy,
        broker=engine.harness.broker,
        owner="run",
        owner_id=engine.run_id,
        workspace=engine.workspace,
        tools=dict(getattr(engine, "tools", None) or TOOLS),
        spec_path=engine.spec_path,
        spec_line=step.spec_line,
        step_id=step.id,
        checkpoints=engine.options.checkpoints,
        max_turns=engine.options.max_turns,
        loop_limit=engine.options.loop_limit,
        holds=engine.holds,
    )
    try:
        if replay is not None:  # go on from its last finished tool call
            text = await resume_loop(ctx, engine.messages, replay)
        else:
            text = await run_loop(ctx, engine.messages)
    except Exception as exc:
        step.status = "failed"
        reason = exc.one_line() if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {exc}"
        await engine.stream.append(
            "step.failed",
            {
                "phase": kind,
                "error": reason,
                "duration_ms": ms_since(started),
                "usage": ctx.usage.as_dict(),
            },
            step_id=step.id,
        )
        raise
    finally:
        engine.usage.add(ctx.usage)
        engine.tool_calls += ctx.tool_calls
    step.status = "done"
    await engine.stream.append(
        "step.completed",
        {
            "phase": kind,
            "title": step.title,
            "duration_ms": ms_since(started),
            "usage": ctx.usage.as_dict(),
            "tool_calls": ctx.tool_calls,
            "summary": text[:1000],
        },
        step_id=step.id,
    )
    return text


def replay_for(engine: Any, step: PlanStep, kind: str) -> StepReplay | None:
    """The interrupted step's replay when `step` continues it (same plan step, or the same
    fix/docs phase, whose step then keeps its old id); used once."""
    r = engine.replay
    if r is None or not (r.step_id == step.id or (kind != "execute" and r.phase == kind)):
        return None
    engine.replay = None
    step.id = r.step_id
    return r


def ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
