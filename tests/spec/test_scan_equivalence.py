"""The line scanner (spec/scan.py) finds exactly what markdown-it-py finds with the same block
rules — every heading and fence, with the same line maps, content, info and markup — so the fast
path changes no diagnostic: the validator's problems are identical on both parses."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness_ls.spec import validate
from harness_ls.spec.parse import markdown_blocks, parse_spec
from harness_ls.spec.scan import blocks
from harness_ls.testing.specs import GOOD_SPEC, long_spec

# Lines that decide block structure, their near misses, and the spacing that changes their meaning.
FRAGMENTS = [
    "# Goal", "## Goal", "#Goal", "####### seven", "# Goal #", "# Goal ##x", "#", "# #", "#\t#",
    "# Acceptance tests", "# Constraints / nuances", "   # three", "    # four", "\t# tab",
    "Goal", "Goal text", "====", "= =", "---", "- - -", "--", "***", "* * *", "___", "_ _ _x",
    "  ===  ", "   ---", "    ---", "-", "=", "- item", "* item", "1. step", "> quote",
    "```", "````", "```bash", "``` x `y`", "~~~", "~~~~ info ~", "  ```", "   ~~~", "    ```",
    "\t```", " \t```", "```  ", "~~~ \t", "``", "~~",
    "    indented", "\tindented", "  \t mixed", "     five", "", "", "", " ", "\t", "  \t  ",
    "<!--", "-->", "<div>", "text 🚀 日本", "\f", "\v", "a\u00a0b", "\u2028",
]  # fmt: skip
lines = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(alphabet=" \t#=-*_`~>x1.", max_size=8),
        st.text(max_size=6),
    ),
    max_size=30,
)
endings = st.sampled_from(["\n", "\r\n", "\r"])


def _src(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")


def _same(text: str) -> None:
    src = _src(text)
    assert blocks(src, src.split("\n")) == markdown_blocks(src), repr(text)
    fast, ref = parse_spec(text), parse_spec(text, reference=True)
    assert (fast.headings, fast.fences, fast.html_comment_open_at_end) == (
        ref.headings,
        ref.fences,
        ref.html_comment_open_at_end,
    ), repr(text)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines, endings, st.booleans())
def test_the_scanner_finds_what_markdown_it_finds(parts, nl, trailing):
    _same(nl.join(parts) + (nl if trailing else ""))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_the_scanner_agrees_on_any_text(text):
    _same(text)


def test_the_trimmed_whitespace_is_markdown_its():
    from markdown_it.common.utils import MD_TRIM_CHARS

    from harness_ls.spec.scan import _MD_TRIM

    assert set(_MD_TRIM) == set(MD_TRIM_CHARS)


def test_known_specs_and_edge_cases():
    for text in (
        GOOD_SPEC, long_spec(300), "", "\n", " ", "a\n  ", "```\n", "```\n\n", "~~~\n# x\n",
        "Goal\n===\n", "- Goal\n---\n", "x\n    ---\n", "# a #\n## b ##  \n### c \\#\n",
        "   ```\n   code\n     more\n  ```\n", "\t```\n\tx\n", " ```\n\tx\n ```",
        "para\n```\nin\n```\nGoal\n---", "a\n***\nb\n===", "#\n#\t#\n# ##",
        "x\n\n\u2028\n\u0c69\n--\n", "\u3000a\u00a0\n==",
    ):  # fmt: skip
        _same(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines, endings)
def test_problems_are_identical_on_both_parses(parts, nl):
    text = nl.join(parts)
    assert validate(text) == validate(text, parsed=parse_spec(text, reference=True))
