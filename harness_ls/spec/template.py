"""New specs: the template a spec starts from, derived from the schema's required sections."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness_ls.spec.schema import SpecSchema


def render_template(
    name: str | None = None, *, goal: str | None = None, schema: SpecSchema | None = None
) -> str:
    """A valid spec skeleton: every required section with its placeholder (or `goal` under Goal)."""
    from harness_ls.spec.schema import builtin_schema

    schema = schema or builtin_schema()
    parts: list[str] = []
    if name:
        parts.append(f"<!-- spec: {name} -->\n")
    for section in schema.required:
        body = section.placeholder or "TODO"
        if section.id == "goal" and goal:
            body = goal.strip()
        parts.append(f"{'#' * section.level} {section.heading}\n\n{body}\n")
    return "\n".join(parts)
