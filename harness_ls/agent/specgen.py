"""`spec prompt`: a new `specs/<name>/spec.md` from a one-paragraph prompt.

With a model: generate, validate, send problems back for repair (bounded), write only a valid
spec. Offline: the template with the prompt under `# Goal`, and the result says so plainly.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from pydantic import BaseModel

from harness_ls.agent.specwrite import (
    MAX_INVALID_SPECS,
    describe,
    problems_json,
    spec_problems,
    strip_fence,
)
from harness_ls.errors import Conflict, InvalidInput, ModelError

SYSTEM = """You write specs for a coding agent. A spec is markdown with exactly these top-level
sections, in this order: `# Goal` (the user-visible outcome, a few sentences), `# Constraints / nuances`
(a bullet list of limits), `# Acceptance tests` (bullet items whose inline code is a shell command
that passes when the work is done, e.g. - `pytest -q tests/test_login.py`). Optional sections:
`# Context`, `# Notes`, `# Out of scope`. Answer with the spec markdown only.

Template:
{template}"""


class SpecResult(BaseModel):
    path: str
    offline: bool
    attempts: int
    model: str | None = None
    problems: list[dict[str, Any]] = []
    message: str


def template_with_goal(template: str, prompt: str) -> str:
    """The template with its goal placeholder replaced by the prompt."""
    from harness_ls.spec import parse_spec

    parsed = parse_spec(template)
    lines = list(parsed.lines)
    for i, h in enumerate(parsed.headings):
        if h.text.lower().startswith("goal"):
            body = parsed.body_lines(i)
            lines[body.start : body.stop] = ["", prompt.strip(), ""]
            return "\n".join(lines)
    return f"# Goal\n\n{prompt.strip()}\n\n{template}"


async def spec_from_prompt(
    harness: Any,
    workspace: str,
    name: str,
    prompt: str,
    *,
    overwrite: bool = False,
    model: str | None = None,
) -> SpecResult:
    from harness_ls.common import spec_target, workspace_dir, write_atomic
    from harness_ls.models import Message, resolve
    from harness_ls.spec import render_template

    if not prompt or not prompt.strip():
        raise InvalidInput(
            "prompt is empty", hint="describe the change you want in a sentence or two"
        )
    ws = workspace_dir(workspace)
    target = spec_target(ws, name)
    rel = target.relative_to(ws).as_posix()
    if target.exists() and not overwrite:
        raise Conflict(f"{rel} already exists", hint="pass --overwrite to replace it")
    template = render_template(name)
    resolved = resolve("spec", set(), model, workspace=ws)
    if resolved.is_offline:
        text = template_with_goal(template, prompt)
        await asyncio.to_thread(partial(write_atomic, target, text, root=ws))
        return SpecResult(
            path=str(target),
            offline=True,
            attempts=0,
            message=f"no model configured ({resolved.reason}): wrote the template to {rel} with your "
            "prompt under # Goal; fill in constraints and acceptance tests, or configure a model "
            "(OPENAI_API_KEY, ANTHROPIC_API_KEY or HARNESS_MODEL) and run again with --overwrite",
        )
    messages = [
        Message(role="system", content=SYSTEM.format(template=template)),
        Message(role="user", content=prompt.strip()),
    ]
    errors: list[Any] = []
    for attempt in range(1, MAX_INVALID_SPECS + 1):
        completion = await resolved.provider.complete(resolved.info.id, messages)
        text = strip_fence(completion.text)
        errors, problems = spec_problems(text, ws)
        if not errors:
            await asyncio.to_thread(partial(write_atomic, target, text, root=ws))
            return SpecResult(
                path=str(target),
                offline=False,
                attempts=attempt,
                model=resolved.info.id,
                problems=problems_json(problems),
                message=f"wrote {rel} ({'valid' if not problems else f'valid, {len(problems)} note(s)'})",
            )
        messages += [
            Message(role="assistant", content=completion.text),
            Message(
                role="user",
                content=f"That spec has problems; answer with the corrected complete spec:\n{describe(errors)}",
            ),
        ]
    raise ModelError(
        f"the model returned an invalid spec {MAX_INVALID_SPECS} times; nothing was written",
        hint="rephrase the prompt, use a stronger model, or start from `agentctl spec new`",
        details=problems_json(errors),
    )
