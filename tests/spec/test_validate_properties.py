"""Hypothesis: validate never raises, and every fix it offers, applied, removes its problem."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness_ls.spec import apply_edits, validate

FRAGMENTS = [
    "# Goal",
    "## Goal",
    "# Goals",
    "# Constraints",
    "# Constraints / nuances",
    "# Acceptance tests",
    "# Acceptance Tests",
    "## Acceptance tests",
    "# Notes",
    "Goal",
    "====",
    "----",
    "```",
    "~~~",
    "```bash",
    "- `pytest -q`",
    "- item",
    "text 🚀 日本",
    "",
    "",
    "    indented",
    "> quote",
    "<!--",
    "-->",
    "1. step",
    "#",
]

lines = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=25)
endings = st.sampled_from(["\n", "\r\n", "\r"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines, endings, st.booleans())
def test_validate_never_raises_and_fixes_remove_their_problem(parts, nl, trailing):
    text = nl.join(parts) + (nl if trailing else "")
    problems = validate(text)
    for problem in problems:
        for fix in problem.fixes:
            fixed = apply_edits(text, fix.edits)
            after = validate(fixed)
            same = [p for p in after if p.code == problem.code and p.section == problem.section]
            before = [
                p for p in problems if p.code == problem.code and p.section == problem.section
            ]
            assert len(same) < len(before), (text, problem.code, fix.title, fixed)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_validate_never_raises_on_arbitrary_text(text):
    validate(text)


def test_moving_a_last_section_with_an_open_fence_closes_it():
    """Found by the property above: `# Goal` was last and its fence ran to the end of the text;
    moved into place unclosed, the fence swallowed the heading after it and the problem stayed."""
    text = "# Acceptance Tests\n# Acceptance tests\n# Goal\n```"
    problem = next(p for p in validate(text) if p.code == "HLS004")
    fixed = apply_edits(text, problem.fixes[0].edits)
    assert fixed == "# Acceptance Tests\n# Goal\n```\n```\n\n# Acceptance tests\n"
    assert [p.code for p in validate(fixed) if p.code == "HLS004"] == []
