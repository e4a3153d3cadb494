"""A substitution bash runs must be a part the policy decides, wherever the grammar hides it.

tree-sitter-bash leaves backticks and `<(…)` inside `${y:-…}`, `${y#…}`, `[[ … ]]` as text, and
parses `10#$(…)` as a number: `rm` there was never a part, so `echo *` allowed the line and a
`[deny] rm *` never saw it (found by driving real bash over generated commands: 757 of them ran
`touch x` while the policy said allow). Now every place bash could start a substitution must be
one the walk visited, else the command is opaque (asks in every mode)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from harness_ls.tools.policy import Policy, Rule

RULES = [
    *(Rule("allow", "shell", p, "test") for p in ("echo *", "cat *", "test *", "printf *")),
    Rule("deny", "shell", "touch *", "test"),
]
HIDDEN = "a substitution the parser did not see as a command"


@pytest.fixture
def policy(tmp_path: Path):
    ws = tmp_path / "ws"
    ws.mkdir()
    return lambda mode: Policy(mode, RULES, ws, tmp_path / "data")


@pytest.mark.parametrize("mode", ["ask", "auto-edit", "full-auto"])
@pytest.mark.parametrize(
    "command",
    ["echo ${y:-`touch x`}", "echo ${y#<(touch x)}", "echo ${y/>(touch x)/a}",
     "x=${y:-`touch x`}", "[[ <(touch x) ]]", "case ${y:-`touch x`} in a) ;; esac",
     "for i in ${y:-`touch x`}; do :; done"],
)  # fmt: skip
def test_a_substitution_the_grammar_left_as_text_asks(policy, mode: str, command: str) -> None:
    d = policy(mode).decide("shell", {"command": command})
    assert d.action == "ask"
    assert [p.action for p in d.parts if HIDDEN in p.rule] == ["ask"]


@pytest.mark.parametrize("mode", ["ask", "full-auto"])
@pytest.mark.parametrize(
    "command",
    ["echo 10#$(touch x)", "echo 2#`touch x`", "x=10#$(touch x)", "echo 64#${a[$(touch x)]}",
     "(( 10#$(touch x) ))", "[[ 10#$(touch x) -eq 1 ]]"],
)  # fmt: skip
def test_a_substitution_inside_a_number_is_a_part(policy, mode: str, command: str) -> None:
    d = policy(mode).decide("shell", {"command": command})
    assert (d.action, d.rule) == ("deny", "test shell 'touch *'")


@pytest.mark.parametrize(
    "command",
    ["echo '$(touch x)' '`touch x`' '<(x)'", 'echo "\\`touch x\\`" \\$\\(touch\\)',
     "echo $'\\x60touch x\\x60'", "echo $((1 + 2))", "echo hi # $(touch x) `touch x`",
     "cat > notes.md <<'EOF'\nUse `make test` and $(pwd) here.\nEOF",
     'cat > notes.md <<"EOF"\nrun `x`\nEOF', "printf '%s\\n' '>(a)' '<(b)'"],
)  # fmt: skip
def test_text_bash_never_runs_still_allows(policy, command: str) -> None:
    d = policy("full-auto").decide("shell", {"command": command})
    assert (d.action, d.rule) == ("allow", "mode full-auto: allowed unless denied")


def test_an_escaped_backtick_nested_in_backticks_asks(policy) -> None:
    d = policy("full-auto").decide("shell", {"command": "echo `echo \\`touch x\\``"})
    assert d.action == "ask"
    assert "a backtick substitution nested in another" in d.rule


PRE = ["", "10#", "0x", "-", "a", "'a'", '"a"', "${y:-", '"${y:-', "${y#", "$((", "a["]
SUBS = ["$(touch x)", "`touch x`", "<(touch x)", ">(touch x)"]
SUF = ["", "a", "]", "}", '"}', "))", ":-1}"]
CTX = ["echo {}", "x={}", "[[ {} ]]", "(( {} ))", "case {} in a) ;; esac", "echo {} | cat",
       "for i in {}; do :; done", "cat <<< {}", "echo > {}", "test {} = 1", "declare a={}",
       'echo "{}"', "cat <<EOF\n{}\nEOF", "{}"]  # fmt: skip


def test_no_generated_command_around_a_substitution_is_allowed(policy) -> None:
    """Every shape of 'a substitution somewhere in a word' is denied (the touch part was seen) or
    asks (opaque); none is allowed by `echo *`/`cat *` or by full-auto."""
    for mode in ("ask", "full-auto"):
        p = policy(mode)
        allowed = [
            cmd
            for ctx, pre, sub, suf in itertools.product(CTX, PRE, SUBS, SUF)
            if p.decide("shell", {"command": (cmd := ctx.format(pre + sub + suf))}).action
            == "allow"
        ]
        assert allowed == [], (mode, allowed[:10])
