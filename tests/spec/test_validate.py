"""The pure validator: each problem code, its fix, and parse edge cases."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness_ls.spec import (
    acceptance_commands,
    apply_edits,
    fix_all,
    load_schema,
    render_template,
    validate,
)
from harness_ls.spec.model import Range
from harness_ls.spec.schema import SchemaError, builtin_schema_path
from harness_ls.testing.specs import GOOD_SPEC


def codes(text: str) -> list[str]:
    return [p.code for p in validate(text)]


def apply_preferred(text: str, code: str) -> str:
    problem = next(p for p in validate(text) if p.code == code)
    fix = (
        next(f for f in problem.fixes if f.preferred)
        if any(f.preferred for f in problem.fixes)
        else problem.fixes[0]
    )
    return apply_edits(text, fix.edits)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("# Goal\n\nx\n\n# Constraints / nuances\n\ny\n", "HLS001"),
        (GOOD_SPEC + "\n# Goal\n\nagain\n", "HLS002"),
        (GOOD_SPEC.replace("# Goal", "## Goal"), "HLS003"),
        (
            "# Constraints / nuances\n\ny\n\n# Goal\n\nx\n\n# Acceptance tests\n\n- `true`\n",
            "HLS004",
        ),
        (GOOD_SPEC.replace("# Acceptance tests", "# Acceptance Tests"), "HLS005"),
        (GOOD_SPEC.replace("# Constraints / nuances", "# Constraints"), "HLS005"),
        (GOOD_SPEC.replace("- Keep the API stable.", ""), "HLS006"),
        (GOOD_SPEC.replace("- `pytest -q`", "We will check it works."), "HLS007"),
        ("", "HLS010"),
        ("   \n\n", "HLS010"),
    ],
)
def test_each_problem_is_reported_and_its_fix_removes_it(text, code):
    assert code in codes(text)
    fixed = apply_preferred(text, code)
    assert code not in codes(fixed) or codes(fixed).count(code) < codes(text).count(code)


def test_valid_spec_has_no_problems():
    assert validate(GOOD_SPEC) == []


def test_headings_in_fences_are_not_headings_and_setext_counts():
    text = "Goal\n====\n\nx\n\n```md\n# Constraints / nuances\n```\n\nConstraints / nuances\n=====\n\n- y\n\n# Acceptance tests\n\n~~~\npytest\n~~~\n"
    assert codes(text) == []
    fenced = "```\n# Goal\n# Constraints / nuances\n# Acceptance tests\n```\n"
    assert codes(fenced).count("HLS001") == 3


def test_a_missing_last_section_is_reported_at_the_end_where_its_fix_goes():
    text = "# Goal\n\nx\n\n# Constraints / nuances\n\n  - keep it  \n\n\n"
    [problem] = validate(text)
    assert problem.code == "HLS001" and problem.section == "acceptance"
    assert (problem.range.start.line, problem.range.start.character) == (6, 2)
    assert (problem.range.end.line, problem.range.end.character) == (6, len("  - keep it"))
    fixed = apply_preferred(text, "HLS001")
    assert fixed.index("# Acceptance tests") > fixed.index("- keep it")
    assert codes(fixed) == []


def test_a_missing_middle_section_is_reported_before_the_next_section():
    text = "# Goal\n\nx\n\n# Acceptance tests\n\n- `true`\n"
    [problem] = validate(text)
    assert problem.section == "constraints" and problem.range.start.line == 4
    fixed = apply_preferred(text, "HLS001")
    assert fixed.index("# Goal") < fixed.index("# Constraints") < fixed.index("# Acceptance")


def test_a_spec_with_no_known_section_reports_every_one_at_its_end():
    problems = validate("Notes\n\n# Ideas\n\nsome text\n")
    missing = [p for p in problems if p.code == "HLS001"]
    assert [p.range.start.line for p in missing] == [4, 4, 4]


def test_fix_for_missing_heading_closes_an_open_fence():
    text = "# Goal\n\nx\n\n```\ncode without end\n"
    fixed = fix_all(text)
    assert [p.code for p in validate(fixed)] == ["HLS012"], fixed  # the inserted placeholder


def test_content_before_first_heading_is_a_hint():
    problems = validate("Title line\n\n" + GOOD_SPEC)
    assert [(p.code, p.severity.value) for p in problems] == [("HLS008", "hint")]


def test_crlf_and_binary():
    assert validate(GOOD_SPEC.replace("\n", "\r\n")) == []
    assert codes("# Goal\x00\n") == ["HLS011"]


def test_a_byte_order_mark_hides_no_heading():
    """Notepad and other Windows editors save UTF-8 with a BOM: `harness-ls check` read past it,
    but the validator saw '\ufeff# Goal' as text, so runs refused the spec ("Missing required
    heading '# Goal'") that the check and the editor called valid."""
    assert validate("\ufeff" + GOOD_SPEC) == []
    (problem,) = validate("\ufeff" + GOOD_SPEC.replace("# Goal", "## Goal"))
    assert (problem.code, problem.range) == ("HLS003", Range.of(0, 4, 0, 8))  # columns kept


def test_fix_all_repairs_a_messy_spec():
    messy = "intro\n## Goal\n# Acceptance Tests\n\n# Constraints\n- a\n"
    fixed = fix_all(messy)
    assert [p.code for p in validate(fixed) if p.severity.value == "error"] == []


def test_template_is_valid_and_carries_the_goal():
    text = render_template("login", goal="Users can log in.")
    assert [p.code for p in validate(text)] == ["HLS012"]  # the constraints: a warning
    assert "Users can log in." in text


def test_a_section_left_as_the_templates_placeholder_is_a_warning():
    """`agentctl spec new login` then `agentctl run`: the agent got "Describe the outcome this
    change must achieve." as its goal, and nothing said the spec was still the template."""
    problems = validate(render_template("login"))
    assert [(p.code, p.severity.value, p.section, p.range) for p in problems] == [
        ("HLS012", "warning", "goal", Range.of(4, 0, 4, 46)),
        ("HLS012", "warning", "constraints", Range.of(8, 0, 8, 41)),
    ]
    assert problems[0].message == (
        "'Goal' still holds the template's placeholder: write what this spec needs here"
    )
    assert validate(GOOD_SPEC) == []  # its `pytest -q` is the acceptance placeholder: a real test
    filled = render_template("login").replace(
        "Describe the outcome this change must achieve.",
        "Describe the outcome this change must achieve.\nUsers can reset their password.",
    )
    assert [p.section for p in validate(filled)] == ["constraints"]


def test_acceptance_commands_from_list_items_and_fences():
    spec = GOOD_SPEC + "\n```bash\n$ make lint\n# comment\n```\n\n```python\nprint(1)\n```\n"
    cmds = [(t.command, t.source) for t in acceptance_commands(spec)]
    assert cmds == [("pytest -q", "inline"), ("make lint", "fence")]


def test_builtin_schema_file_is_valid_against_its_meta_schema():
    import jsonschema  # dev extra

    path = builtin_schema_path()
    meta = json.loads((path.parent / "spec.schema.meta.json").read_text())
    jsonschema.validate(json.loads(path.read_text()), meta)


def test_workspace_schema_extends_and_broken_one_is_reported(tmp_path: Path):
    (tmp_path / ".harness").mkdir()
    ext = {
        "version": 1,
        "sections": [
            {"id": "rollout", "heading": "Rollout", "required": True, "placeholder": "- canary"}
        ],
    }
    (tmp_path / ".harness" / "spec.schema.json").write_text(json.dumps(ext))
    schema = load_schema(tmp_path)
    assert [s.id for s in schema.sections] == ["goal", "constraints", "acceptance", "rollout"]
    assert "HLS001" in [p.code for p in validate(GOOD_SPEC, schema)]
    (tmp_path / ".harness" / "spec.schema.json").write_text(
        '{"version": 1, "sections": [{"id": "X"}]}'
    )
    with pytest.raises(SchemaError, match="spec.schema.json"):
        load_schema(tmp_path)


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_a_workspace_schema_that_is_no_regular_file_is_refused_not_read(tmp_path: Path, kind):
    """A cloned repository's `.harness/spec.schema.json` as a FIFO (open would block), a link to
    /dev/zero (read would never end) or a huge file: a SchemaError, the server goes on."""
    (tmp_path / ".harness").mkdir()
    path = tmp_path / ".harness" / "spec.schema.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(b" " * ((1 << 20) + 1))
    with pytest.raises(SchemaError, match="not a regular file"):
        load_schema(tmp_path)
