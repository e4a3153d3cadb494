"""edit: exact unique replacement, whitespace-tolerant fallback, and errors that say why."""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

from pathlib import Path

import pytest

from harness_ls.errors import InvalidInput
from harness_ls.tools import TOOLS, ToolContext, plan_edit

CODE = """\
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
"""


@pytest.fixture
def code(repo: Path) -> Path:
    path = repo / "calc.py"
    path.write_text(CODE)
    return path


async def test_exact_unique_replacement(ctx: ToolContext, code: Path) -> None:
    result = await TOOLS["edit"].run(
        ctx, {"path": "calc.py", "old": "return a - b", "new": "return b - a"}
    )
    assert result.ok and result.data["start_line"] == 6 and result.data["matched"] == "exact"
    assert "return b - a" in code.read_text() and "-    return a - b" in result.output


async def test_multiple_matches_name_count_and_lines(ctx: ToolContext, code: Path) -> None:
    result = await TOOLS["edit"].run(ctx, {"path": "calc.py", "old": "(a, b):", "new": "(x, y):"})
    assert not result.ok
    assert "matches 3 places" in result.output and "lines 1, 5, 9" in result.output
    assert "replace_all" in result.output
    assert code.read_text() == CODE


async def test_replace_all(ctx: ToolContext, code: Path) -> None:
    result = await TOOLS["edit"].run(
        ctx, {"path": "calc.py", "old": "(a, b):", "new": "(x, y):", "replace_all": True}
    )
    assert result.ok and result.data["replacements"] == 3 and code.read_text().count("(x, y):") == 3


async def test_no_match_shows_closest_match_and_diff(ctx: ToolContext, code: Path) -> None:
    result = await TOOLS["edit"].run(
        ctx, {"path": "calc.py", "old": "def sub(a, c):\n    return a - c\n", "new": "x"}
    )
    assert not result.ok
    assert "not found in calc.py" in result.output
    assert "Closest match (lines 5-6" in result.output
    assert "-def sub(a, c):" in result.output and "+def sub(a, b):" in result.output
    assert code.read_text() == CODE


async def test_no_match_and_nothing_similar(ctx: ToolContext, code: Path) -> None:
    result = await TOOLS["edit"].run(ctx, {"path": "calc.py", "old": "zzzz qqqq wwww", "new": "x"})
    assert not result.ok and "no passage is similar" in result.output


async def test_whitespace_tolerant_trailing_spaces(ctx: ToolContext, repo: Path) -> None:
    (repo / "t.txt").write_text("alpha   \nbeta\t\ngamma\n")
    result = await TOOLS["edit"].run(
        ctx, {"path": "t.txt", "old": "alpha\nbeta\n", "new": "ALPHA\nBETA\n"}
    )
    assert result.ok and result.data["matched"] == "trailing whitespace"
    assert (repo / "t.txt").read_text() == "ALPHA\nBETA\ngamma\n"


async def test_whitespace_tolerant_indentation_reindents_new(ctx: ToolContext, code: Path) -> None:
    result = await TOOLS["edit"].run(
        ctx,
        {
            "path": "calc.py",
            "old": "def mul(a, b):\nreturn a * b",
            "new": "def mul(a, b):\n# product\nreturn a * b",
        },
    )
    assert result.ok and result.data["matched"] == "indentation"
    assert code.read_text().endswith("def mul(a, b):\n    # product\n    return a * b\n")


async def test_indentation_delta_applied(ctx: ToolContext, repo: Path) -> None:
    (repo / "k.py").write_text("class K:\n    def f(self):\n        return 1\n")
    result = await TOOLS["edit"].run(
        ctx,
        {"path": "k.py", "old": "def f(self):\n    return 1", "new": "def f(self):\n    return 2"},
    )
    assert result.ok and result.data["matched"] == "indentation"
    assert (repo / "k.py").read_text() == "class K:\n    def f(self):\n        return 2\n"


async def test_fuzzy_match_that_is_ambiguous_is_an_error(ctx: ToolContext, repo: Path) -> None:
    (repo / "d.txt").write_text("  x = 1\ny = 2\n    x = 1\n")
    result = await TOOLS["edit"].run(ctx, {"path": "d.txt", "old": "x = 1\n", "new": "x = 3\n"})
    assert not result.ok and "matches 2 places in d.txt (lines 1, 3)" in result.output
    assert (repo / "d.txt").read_text() == "  x = 1\ny = 2\n    x = 1\n"  # neither edited
    result = await TOOLS["edit"].run(ctx, {"path": "d.txt", "old": "\tx = 1", "new": "x = 9"})
    assert not result.ok and "matches 2 places" in result.output


async def test_crlf_files_keep_their_line_endings(ctx: ToolContext, repo: Path) -> None:
    (repo / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    result = await TOOLS["edit"].run(ctx, {"path": "w.txt", "old": "one\ntwo\n", "new": "1\n2\n"})
    assert result.ok and (repo / "w.txt").read_bytes() == b"1\r\n2\r\nthree\r\n"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [("", "x", "old is empty"), ("same", "same", "identical")],
)
def test_degenerate_edits(old: str, new: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        plan_edit("same text\n", "f.txt", old, new)


async def test_missing_file_and_binary(ctx: ToolContext, repo: Path) -> None:
    missing = await TOOLS["edit"].run(ctx, {"path": "nope.py", "old": "a", "new": "b"})
    assert missing.error_code == "not_found"
    (repo / "b.bin").write_bytes(b"a\x00b")
    binary = await TOOLS["edit"].run(ctx, {"path": "b.bin", "old": "a", "new": "b"})
    assert not binary.ok and "binary" in binary.output


def test_preview_gives_diff_and_touched_lines(ctx: ToolContext, code: Path) -> None:
    preview = TOOLS["edit"].preview(
        ctx,
        {
            "path": "calc.py",
            "old": "def sub(a, b):\n    return a - b",
            "new": "def sub(a, b):\n    return -(b - a)",
        },
    )
    assert preview.kind == "write" and preview.path == "calc.py"
    assert (preview.range.start_line, preview.range.end_line) == (5, 6)
    assert "+    return -(b - a)" in preview.diff
    assert code.read_text() == CODE


def test_preview_of_an_edit_that_cannot_apply_raises_invalid_input(
    ctx: ToolContext, code: Path
) -> None:
    with pytest.raises(InvalidInput, match="not found"):
        TOOLS["edit"].preview(ctx, {"path": "calc.py", "old": "nothing like it at all", "new": "x"})


def test_edit_schema_has_no_line_numbers() -> None:
    props = TOOLS["edit"].spec()["parameters"]["properties"]
    assert set(props) == {"path", "old", "new", "replace_all"}
