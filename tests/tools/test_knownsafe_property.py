"""Property: every command the policy auto-allows (mode `ask`, no rules) is on the exact list.

Commands are generated from a small bash grammar — lists and pipelines, subshells, groups, loops,
`$(…)`, backticks, process substitution, arithmetic and parameter expansions, assignments,
redirections, here-docs and here-strings, globs and braces, every quoting style, wrappers, and the
known-safe commands with random safe and unsafe options and operands. Each generated piece carries
its own verdict from the independent table below (not the implementation's); the whole command is
safe only if every piece is. Whatever the policy allows must be safe by that table; and a command
the table calls safe, built from plain pieces, must be allowed (so the property is not vacuous).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness_ls.tools.policy import Policy

Piece = tuple[str, bool]  # (bash text, safe by the table)

SAFE_PATHS = ["a.txt", "b.txt", "src/m.py", "*.txt", "src/*.py", "{a,b}.txt", "./a.txt"]
SECRET_PATHS = [".env.local", ".e*", "{.env.local,a.txt}"]
OUTSIDE_PATHS = ["../x", "/etc/passwd", "out/secret.txt", "~/x", "out/*", "/dev/zero"]
# command: (operand kind, safe options, unsafe options)
TABLE: dict[str, tuple[str, list[str], list[str]]] = {
    "cat": ("paths", ["-n", "-A", "-s", "--number"], ["-Z", "--unknown", "--files0-from=x"]),
    "head": ("paths", ["-n 3", "-5", "-c 10", "-q", "--lines=2"], ["-f", "--follow", "-x"]),
    "tail": ("paths", ["-n 3", "-5", "-q"], ["-f", "-F", "--follow", "--pid=1"]),
    "wc": ("paths", ["-l", "-c", "-w"], ["--files0-from=x", "-x"]),
    "sort": ("paths", ["-n", "-r", "-u", "-k 1,1"],
             ["-o out", "--output=out", "--compress-program=sh", "-T /tmp"]),
    "ls": ("names", ["-l", "-a", "-la", "-R", "-1"], ["--unknown", "-j"]),
    "grep": ("pattern", ["-n", "-i", "-c", "-v", "-l", "-w", "-H"], ["-R", "--pre=cat", "-y -R"]),
    "sed": ("script", ["-n", "-E", "-s"], ["-i", "--in-place", "-f x.sed"]),
    "echo": ("text", ["-n", "-e"], []),
}  # fmt: skip
SED_SAFE = ["1p", "s/a/b/g", "/x/d", "2,3p", "y/ab/ba/"]
SED_UNSAFE = ["s/a/b/w out", "1e", "r /etc/passwd", "w out", "s/a/id/e", "1W out"]
NEVER_SAFE = ["rm -rf x", "touch x", "curl x", "python3 -c 1", "git status", "bash x.sh", "yes",
              "less a.txt", "xargs cat", "tee x", "cp a b", "make", "sleep 1", "man ls"]  # fmt: skip
EVALUATING_WORDS = ["$((x))", "${x@P}", "${!x}", "$(cat a.txt)", "`cat a.txt`", "<(cat a.txt)",
                    "$x", '"$x"', "${x:1}", "${a[i]}", "$[x]"]  # fmt: skip
UNSAFE_STATEMENTS = ["(( x ))", "[[ -v a[x] ]]", "[[ x -eq 1 ]]", "let x=1", "printf -v x y",
                     "test -v x", "declare x", "read x", "x=1", "export X=1", "eval echo",
                     ". ./x", "trap 'echo' EXIT", "cd src", "mapfile a"]  # fmt: skip
SAFE_REDIRECTS = ["2>/dev/null", ">/dev/null", "2>&1", "< a.txt"]
UNSAFE_REDIRECTS = ["> out.txt", ">> a.txt", "< .env.local", "> /tmp/x", "2> ../log", "&> out"]
WRAPPERS_SAFE = ["timeout 5", "nice -n 5", "env", "command", "env -i"]
WRAPPERS_UNSAFE = ["env FOO=1", "env -C /tmp", "xargs", "nohup", "sudo", "env -S"]
ASSIGNMENTS = ["FOO=1", "GIT_DIR=x", "LD_PRELOAD=x.so", "PAGER=cat"]
_SPECIAL = set(" \t;&|<>()$`\\\"'#=!")


@st.composite
def quoted(draw, word: str, glob_ok: bool = True) -> str:
    """The same word in one of bash's quoting styles (quote removal gives `word` back)."""
    style = draw(st.sampled_from(["plain", "single", "double", "backslash", "ansi", "concat"]))
    if style == "concat" and len(word) > 1:
        cut = draw(st.integers(1, len(word) - 1))
        return draw(quoted(word[:cut], False)) + draw(quoted(word[cut:], False))
    if (
        style == "plain"
        and not (_SPECIAL & set(word))
        and (glob_ok or not set("*?[{~") & set(word))
    ):
        return word
    if style == "double":
        return '"' + "".join("\\" + c if c in '\\$`"' else c for c in word) + '"'
    if style == "backslash":
        return "".join(c if c.isalnum() else "\\" + c for c in word)
    if style == "ansi":
        return "$'" + word.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + word.replace("'", "'\\''") + "'"


@st.composite
def words(draw, text: str) -> str:
    return " ".join(draw(quoted(w)) for w in text.split(" ") if w)


@st.composite
def operand(draw, kind: str) -> Piece:
    if kind == "text":
        return draw(words(draw(st.sampled_from(["hi", "a b", "/etc/passwd", "x=1", "%s"])))), True
    pool = SAFE_PATHS + SECRET_PATHS + OUTSIDE_PATHS
    word = draw(st.sampled_from(pool))
    safe = word in SAFE_PATHS or (kind == "names" and word in SECRET_PATHS)
    return draw(quoted(word)), safe


@st.composite
def known_command(draw) -> Piece:
    name = draw(st.sampled_from(sorted(TABLE)))
    kind, good, bad = TABLE[name]
    items: list[Piece] = []
    for _ in range(draw(st.integers(0, 2))):
        unsafe = bool(bad) and draw(st.booleans())
        items.append((draw(words(draw(st.sampled_from(bad if unsafe else good)))), not unsafe))
    operands: list[Piece] = []
    if kind == "pattern":
        operands.append((draw(quoted("b")), True))
    if kind == "script":
        unsafe = draw(st.booleans())
        script = draw(st.sampled_from(SED_UNSAFE if unsafe else SED_SAFE))
        operands.append((draw(quoted(script)), not unsafe))
    for _ in range(draw(st.integers(0 if kind in ("text", "names", "pattern") else 1, 2))):
        operands.append(draw(operand("text" if kind == "text" else
                                     "names" if kind == "names" else "paths")))  # fmt: skip
    if draw(st.integers(0, 4)) == 0:
        operands.append((draw(st.sampled_from(EVALUATING_WORDS)), False))
    if name == "echo":  # echo takes options first only
        pieces = items + operands
    else:  # GNU tools permute: options may follow operands
        pieces = list(operands)
        for item in items:
            pieces.insert(draw(st.integers(0, len(pieces))), item)
    if draw(st.integers(0, 3)) == 0:  # a redirection between words: `cat 2>/dev/null .env`
        unsafe = draw(st.booleans())
        redirect = draw(st.sampled_from(UNSAFE_REDIRECTS if unsafe else SAFE_REDIRECTS))
        pieces.insert(draw(st.integers(0, len(pieces))), (redirect, not unsafe))
    text = " ".join([draw(quoted(name, False)), *(p[0] for p in pieces)])
    return text, all(p[1] for p in pieces)


@st.composite
def find_command(draw) -> Piece:
    start, start_ok = draw(
        st.sampled_from([(".", True), ("src", True), ("/", False), ("../x", False)])
    )
    expr, expr_ok = draw(st.sampled_from([
        ("-name '*.py'", True), ("-type f", True), ("-maxdepth 2 -print", True), ("", True),
        ("-exec rm {} \\;", False), ("-delete", False), ("-fprint out", False),
        ("-execdir cat {} +", False), ("-ok rm {} \\;", False), ("-fls out", False)]))  # fmt: skip
    return f"find {start} {expr}".strip(), start_ok and expr_ok


@st.composite
def other_command(draw) -> Piece:
    return draw(st.one_of(
        st.sampled_from([("seq 1 10", True), ("seq 5", True), ("seq 1 99999999999", False),
                         ("seq 0 0.000001 1000", False), ("printf '%s\\n' a", True),
                         ("printf '%99999s' x", False), ("printf -v x y", False),
                         ("test -f a.txt", True), ("[ -d src ]", True), ("[ -v x ]", False),
                         ("[[ -f a.txt ]]", True), ("true", True), ("pwd", True)]),
        st.sampled_from(NEVER_SAFE).map(lambda c: (c, False)),
        st.sampled_from(UNSAFE_STATEMENTS).map(lambda c: (c, False)),
    ))  # fmt: skip


@st.composite
def simple(draw) -> Piece:
    text, safe = draw(st.one_of(known_command(), find_command(), other_command()))
    if draw(st.integers(0, 5)) == 0:
        unsafe = draw(st.booleans())
        wrap = draw(st.sampled_from(WRAPPERS_UNSAFE if unsafe else WRAPPERS_SAFE))
        text, safe = f"{wrap} {text}", safe and not unsafe
    if draw(st.integers(0, 6)) == 0:
        text, safe = f"{draw(st.sampled_from(ASSIGNMENTS))} {text}", False
    for _ in range(draw(st.integers(0, 2))):
        unsafe = draw(st.booleans())
        text += " " + draw(st.sampled_from(UNSAFE_REDIRECTS if unsafe else SAFE_REDIRECTS))
        safe = safe and not unsafe
    return text, safe


@st.composite
def compound(draw, depth: int = 0) -> Piece:
    inner = simple() if depth >= 2 else st.one_of(simple(), compound(depth + 1))
    text, safe = draw(inner)
    shape = draw(st.sampled_from(["bare"] * 6 + ["not", "subshell", "group", "if", "for", "while",
                                                "subst", "background_fn"]))  # fmt: skip
    wrapped = {
        "bare": (text, safe), "not": (f"! {text}", safe), "subshell": (f"({text})", False),
        "group": (f"{{ {text}; }}", False), "if": (f"if true; then {text}; fi", False),
        "for": (f"for f in a; do {text}; done", False), "while": (f"while false; do {text}; done", False),
        "subst": (f"echo \"$({text})\"", False), "background_fn": (f"f() {{ {text}; }}", False),
    }  # fmt: skip
    return wrapped[shape]


@st.composite
def command_line(draw) -> Piece:
    pieces = draw(st.lists(compound(), min_size=1, max_size=4))
    seps = draw(st.lists(st.sampled_from([("; ", True), (" && ", True), (" || ", True),
                                          (" | ", True), ("\n", True), (" & ", False)]),
                         min_size=len(pieces) - 1, max_size=len(pieces) - 1))  # fmt: skip
    text, safe = pieces[0]
    for (sep, sep_ok), (piece, ok) in zip(seps, pieces[1:], strict=True):
        text, safe = text + sep + piece, safe and sep_ok and ok
    tail = draw(st.sampled_from([("", True), ("", True), (" | cat <<'EOF'\n$(x)\nEOF", True),
                                 (" | cat <<EOF\n$x\nEOF", False), (" | grep x <<< 'lit'", True),
                                 (" | grep x <<< \"$x\"", False)]))  # fmt: skip
    return text + tail[0], safe and tail[1]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prop")
    ws = root / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "m.py").write_text("x = 1\n")
    for name in ("a.txt", "b.txt"):
        (ws / name).write_text("a\nb\n")
    (ws / ".env.local").write_text("API_KEY=sk-secret\n")
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_text("no\n")
    os.symlink(root / "outside", ws / "out")
    return ws


@settings(
    max_examples=int(os.environ.get("PROP_N", "600")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(case=command_line())
def test_every_auto_allowed_command_is_on_the_exact_list(workspace: Path, case: Piece) -> None:
    command, safe = case
    decision = Policy("ask", [], workspace).decide("shell", {"command": command})
    if decision.action == "allow":
        assert safe, f"allowed but not on the exact list: {command!r}\n{decision}"


@settings(
    max_examples=int(os.environ.get("PROP_N", "300")) // 2,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(case=st.lists(known_command(), min_size=1, max_size=3))
def test_plain_commands_the_table_calls_safe_are_allowed(
    workspace: Path, case: list[Piece]
) -> None:
    command = " | ".join(text for text, _ in case)
    decision = Policy("ask", [], workspace).decide("shell", {"command": command})
    if all(safe for _, safe in case):
        assert decision.action == "allow", f"{command!r}\n{decision}"
    else:
        assert decision.action == "ask", f"{command!r}\n{decision}"


_WORDS = st.sampled_from(["cat", "grep -r", "find .", "sed", "awk", "jq", "printf", "[[", "((", "$((",
                          "${!", "${x@P}", "a[x]=", ".e*", "h/", "{a,b}", "~", "\x00", "2>/dev/null",
                          "|", ";", "&&", "'", '"', "\\", "$'\\x00'", "<<<", "<<EOF\n", "\n", " ",
                          "٣", "²", "-w", "-n", "99999999999", "*", "?", "[", "../"])  # fmt: skip


@settings(max_examples=int(os.environ.get("PROP_N", "600")) // 2, deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(text=st.one_of(st.text(max_size=60), st.lists(_WORDS, max_size=12).map("".join)))
def test_any_text_gets_a_decision_never_an_exception(workspace: Path, text: str) -> None:
    for mode in ("ask", "full-auto"):
        decision = Policy(mode, [], workspace).decide("shell", {"command": text})
        assert decision.action in ("allow", "ask", "deny")
