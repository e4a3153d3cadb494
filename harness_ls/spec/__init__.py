"""Spec schema, parsing and validation: pure code with no editor or server imports."""

from __future__ import annotations

from harness_ls.spec.acceptance import acceptance_commands
from harness_ls.spec.edits import apply_edits
from harness_ls.spec.model import AcceptanceTest, Fix, Position, Problem, Range, Severity, TextEdit
from harness_ls.spec.parse import ParsedSpec, parse_spec, split_lines
from harness_ls.spec.schema import SchemaError, SpecSchema, builtin_schema, load_schema
from harness_ls.spec.template import render_template
from harness_ls.spec.validate import CODES, validate

__all__ = [
    "CODES",
    "AcceptanceTest",
    "Fix",
    "ParsedSpec",
    "Position",
    "Problem",
    "Range",
    "SchemaError",
    "Severity",
    "SpecSchema",
    "TextEdit",
    "acceptance_commands",
    "apply_edits",
    "builtin_schema",
    "fix_all",
    "load_schema",
    "parse_spec",
    "render_template",
    "split_lines",
    "validate",
]


def fix_all(text: str, schema: SpecSchema | None = None, max_rounds: int = 8) -> str:
    """Apply preferred fixes one at a time, re-validating between them, until none is left."""
    for _ in range(max_rounds):
        problems = [p for p in validate(text, schema) if any(f.preferred for f in p.fixes)]
        if not problems:
            break
        fix = next(f for f in problems[0].fixes if f.preferred)
        text = apply_edits(text, fix.edits)
    return text
