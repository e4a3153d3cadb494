"""Plans: ordered steps derived from a spec, by the model or (offline) from the spec's structure.

The offline plan is deterministic: list items under the goal and under the author's own sections
become steps, and a last step asks for the acceptance tests to pass. A model plan is parsed from a
JSON answer; anything unusable falls back to the derived plan (said in a `log` event by the run).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from harness_ls.agent.ids import new_id

StepStatus = Literal["pending", "done", "skipped", "failed"]
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+(.*\S)")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_META = ("constraint", "nuance", "requirement", "non-goal", "context", "note", "out of scope")
_ACCEPTANCE = ("acceptance", "test", "verification")
_GOAL = ("goal", "objective", "purpose", "summary")
MAX_STEPS = 12


class PlanStep(BaseModel):
    id: str
    title: str
    detail: str = ""
    spec_line: int | None = None  # 0-based line in the spec the step comes from
    status: StepStatus = "pending"


def _kind(heading: str) -> str:
    h = heading.lower()
    if any(k in h for k in _ACCEPTANCE):
        return "acceptance"
    if any(k in h for k in _GOAL):
        return "goal"
    if any(k in h for k in _META):
        return "meta"
    return "own"


def _step(title: str, detail: str = "", line: int | None = None) -> PlanStep:
    return PlanStep(id=new_id("st"), title=title.strip()[:200], detail=detail, spec_line=line)


def goal_summary(spec_text: str) -> tuple[str, int | None]:
    """The first paragraph under the goal heading (trimmed) and the goal heading's line."""
    from harness_ls.spec import parse_spec

    parsed = parse_spec(spec_text)
    for i, h in enumerate(parsed.headings):
        if _kind(h.text) == "goal":
            body = [parsed.lines[n].strip() for n in parsed.body_lines(i)]
            para: list[str] = []
            for line in body:
                if not line and para:
                    break
                if line and not line.startswith("<!--"):
                    para.append(line)
            text = " ".join(para)
            return (text[:240] + ("…" if len(text) > 240 else "")), h.line
    return "", None


def derive_plan(spec_text: str, tests: list[Any]) -> list[PlanStep]:
    """Offline plan from the spec's sections and acceptance tests."""
    from harness_ls.spec import parse_spec

    parsed = parse_spec(spec_text)
    fenced = {n for f in parsed.fences for n in range(f.line, f.end_line)}
    steps: list[PlanStep] = []
    for i, h in enumerate(parsed.headings):
        kind = _kind(h.text)
        if kind in ("meta", "acceptance"):
            continue
        items = []
        for n in parsed.body_lines(i):
            m = _LIST_ITEM.match(parsed.lines[n])
            if m and n not in fenced and not parsed.lines[n].startswith((" " * 4, "\t")):
                items.append(_step(m.group(1), f"From '{h.text}'", n))
        if items:
            steps.extend(items)
        elif kind == "own" and h.level <= 2:
            steps.append(_step(h.text, f"Section '{h.text}' of the spec", h.line))
    if not steps:
        goal, line = goal_summary(spec_text)
        steps.append(
            _step(f"Implement the goal: {goal}" if goal else "Implement the spec", "", line)
        )
    steps = steps[: MAX_STEPS - 1]
    if tests:
        commands = ", ".join(f"`{t.command}`" for t in tests[:5])
        more = f" and {len(tests) - 5} more" if len(tests) > 5 else ""
        steps.append(_step(f"Make the acceptance tests pass: {commands}{more}", "", tests[0].line))
    return steps


def parse_model_plan(text: str) -> list[PlanStep]:
    """Steps from a model's JSON answer (a list, or {"steps": [...]}, optionally fenced).

    Raises ValueError when nothing usable is there.
    """
    raw = text.strip()
    m = _FENCE.search(raw)
    if m:
        raw = m.group(1).strip()
    if not raw.startswith(("[", "{")):
        start = min((i for i in (raw.find("["), raw.find("{")) if i >= 0), default=-1)
        if start < 0:
            raise ValueError("no JSON in the plan answer")
        raw = raw[start:]
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"plan is not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("steps")
    if not isinstance(data, list) or not data:
        raise ValueError("plan has no steps")
    steps = []
    for item in data[:MAX_STEPS]:
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, dict) or not str(item.get("title", "")).strip():
            raise ValueError(f"plan step without a title: {item!r}")
        try:
            line = item.get("spec_line")
            steps.append(
                _step(
                    str(item["title"]),
                    str(item.get("detail") or ""),
                    int(line) if isinstance(line, int | float) else None,
                )
            )
        except (ValidationError, TypeError, ValueError) as exc:
            raise ValueError(f"bad plan step {item!r}: {exc}") from exc
    return steps


def plan_from_events(events: list[Any]) -> tuple[list[PlanStep], set[str]]:
    """(last plan, ids of completed steps) from a run's events — what resume continues from."""
    plan: list[PlanStep] = []
    done: set[str] = set()
    for ev in events:
        if ev.type == "plan.updated":
            plan = [PlanStep.model_validate(s) for s in ev.data.get("steps", [])]
        elif ev.type == "step.completed" and ev.step_id and ev.data.get("phase") == "execute":
            done.add(ev.step_id)
    for s in plan:  # skipped (offline) or failed steps run again
        s.status = "done" if s.id in done else "pending"
    return plan, done


async def model_plan(
    stream: Any, resolved: Any, spec_path: str, spec_text: str, context: str = ""
) -> tuple[list[PlanStep], Any]:
    """Ask the model for the plan (its own `step.*` events); [] when its answer is unusable."""
    from harness_ls.agent import prompts
    from harness_ls.agent.turn import Usage, retries_recorded
    from harness_ls.models import Message

    step_id = new_id("st")
    started = time.monotonic()
    await stream.append("step.started", {"phase": "plan", "title": "Plan"}, step_id=step_id)
    text = prompts.PLAN.format(max_steps=MAX_STEPS - 2, spec_path=spec_path, spec=spec_text)
    if context:
        text += f"\n\nRepository context:\n{context}"
    with retries_recorded(stream, step_id):
        completion = await resolved.provider.complete(
            resolved.info.id, [Message(role="user", content=text)]
        )
    usage = Usage.of_call(completion.usage)
    try:
        steps = parse_model_plan(completion.text)
    except ValueError as exc:
        await stream.append(
            "log",
            {
                "level": "warning",
                "code": "plan.unparsed",
                "message": f"{exc}; using the plan derived from the spec",
            },
            step_id=step_id,
        )
        steps = []
    ms = round((time.monotonic() - started) * 1000, 1)
    await stream.append(
        "step.completed",
        {"phase": "plan", "duration_ms": ms, "usage": usage.as_dict()},
        step_id=step_id,
    )
    return steps, usage


async def plan_phase(engine: Any, tests: list[Any]) -> list[PlanStep]:
    """A run's plan phase: the plan a resumed run already had, else the model's (when there is
    one), else the one derived from the spec; every step anchored on a spec line, all of them
    skipped offline. Emits the one `plan.updated` event; `engine` is the RunEngine."""
    from harness_ls.agent.replay import interrupted_step, log_holds

    engine.phase = "plan"
    if engine.resume:
        store, run_id = engine.harness.store, engine.run_id
        events = list(store.reader("run", run_id).read())
        steps, done = plan_from_events(events)
        load = lambda ev: store.load_data("run", run_id, ev)  # noqa: E731
        engine.replay = interrupted_step(events, load)
        tools = getattr(engine, "tools", None) or {}
        engine.holds = log_holds(events, engine.workspace, tools, "run", load)
        if steps:
            await engine.stream.append(
                "plan.updated",
                {"steps": dump_steps(steps), "source": "resume", "completed": sorted(done)},
            )
            return steps
    source = "spec"
    steps = []
    if not engine.offline_reason and engine.options.plan_with_model:
        steps, usage = await model_plan(
            engine.stream, engine.resolved, engine.spec_path, engine.spec_text, engine.context
        )
        engine.usage.add(usage)
        source = "model"
    if not steps:
        steps, source = derive_plan(engine.spec_text, tests), "spec"
    _, goal_line = goal_summary(engine.spec_text)
    for s in steps:  # approvals point at a spec line; default to the goal
        if s.spec_line is None:
            s.spec_line = goal_line
    if engine.offline_reason:  # nothing will execute them: say so in the one plan event
        for step in steps:
            step.status = "skipped"
    await engine.stream.append("plan.updated", {"steps": dump_steps(steps), "source": source})
    return steps


def dump_steps(steps: list[PlanStep]) -> list[dict[str, Any]]:
    return [s.model_dump() for s in steps]
