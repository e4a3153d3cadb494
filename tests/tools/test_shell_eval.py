"""Text bash evaluates as code is never pre-approved (issue 31 row 1, by class).

Each example below is first run under real bash in a temp dir, to prove bash really runs the
`touch pwned` hidden in data (arithmetic, array subscripts, indirection, prompt expansion, …);
then the policy must ask for it in every mode that could allow it: `ask` with an allow-everything
rule and `full-auto` — a deny rule cannot be checked against code that only exists at run time.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness_ls.tools.policy import Policy, Rule

X = "x='a[$(touch pwned)]'; "
EVALUATING = [
    "printf -v x 'a[\\x24(touch pwned)]'; test -v 'a[x]'",
    X + "[ -v 'a[x]' ]",
    X + "[[ -v a[x] ]]",
    X + "[[ x -eq 1 ]]",
    X + "(( x ))",
    X + "let y=x",
    X + "echo $((x))",
    X + "echo $[x]",
    X + "echo ${!x}",
    "x='$(touch pwned)'; echo ${x@P}",
    X + "y=abc; echo ${y:x}",
    X + "y=(1); echo ${y[x]}",
    X + "declare -i y=x",
    X + "read 'a[x]' <<< 1",
    X + "a[x]=1",
    X + "y=([x]=1)",
    X + "printf -v 'a[x]' 1",
    X + "a=(1); unset 'a[x]'",
    X + "for ((i=x; i<0; i++)); do :; done",
    X + "cat <<EOF\n$((x))\nEOF",
    "declare -n r='a[$(touch pwned)]'; echo $r",
    "hash -p /usr/bin/touch cat; cat pwned",
    "compgen -C 'touch pwned' x",
]


def _bash_runs_it(tmp_path: Path, command: str) -> bool:
    run = tmp_path / "run"
    run.mkdir()
    bash = shutil.which("bash") or "/bin/bash"
    subprocess.run([bash, "--norc", "--noprofile", "-c", command], cwd=run, env={"PATH": "/usr/bin:/bin"},
                   capture_output=True, timeout=10, check=False)  # fmt: skip
    return (run / "pwned").exists()


@pytest.mark.parametrize("command", EVALUATING)
def test_evaluated_text_runs_under_bash_and_always_asks(tmp_path: Path, command: str) -> None:
    assert _bash_runs_it(tmp_path, command), "the example must really run code under bash"
    ws = tmp_path / "ws"
    ws.mkdir()
    everything = [Rule("allow", "shell", "*", "user [allow]")]
    for mode, rules in (("ask", everything), ("auto-edit", everything), ("full-auto", [])):
        decision = Policy(mode, rules, ws).decide("shell", {"command": command})
        assert decision.action == "ask", (mode, decision)
        assert "before it runs" in decision.rule, decision.rule


@pytest.mark.parametrize(
    "command",
    [
        "echo $((1 + 2))",
        "a=(1 2); echo ${a[1]} ${a[@]} ${#a[@]}",
        "echo ${x:-default}",
        "[ x -eq 1 ]",
        'test "$x" -eq 1',
        "echo ${!prefix*}",
    ],  # fmt: skip
)
def test_constructs_that_evaluate_nothing_are_not_opaque(tmp_path: Path, command: str) -> None:
    decision = Policy("full-auto", [], tmp_path).decide("shell", {"command": command})
    assert decision.action == "allow", decision


def test_a_trap_payload_is_a_part_deny_rules_see(tmp_path: Path) -> None:
    policy = Policy("full-auto", [Rule("deny", "shell", "rm *", "user [deny]")], tmp_path)
    assert policy.decide("shell", {"command": "trap 'rm -rf ~' EXIT"}).action == "deny"
    assert policy.decide("shell", {"command": 'trap "$x" EXIT'}).action == "ask"


@pytest.mark.parametrize(
    "command",
    [
        "GIT_EXTERNAL_DIFF=./x git diff",
        "GIT_CONFIG_PARAMETERS=x git status",
        "LD_PRELOAD=x ls",
        "BASH_ENV=x bash s.sh",
        "PAGER=./x git log",
        "env GIT_PAGER=./x git log",
        "export GIT_SSH_COMMAND=x",
        "PYTEST_ADDOPTS='-p evil' pytest",
        "NODE_OPTIONS=-r./x npm test",
        "GLOBIGNORE=x; cat *",
    ],  # fmt: skip
)
def test_variables_that_change_what_runs_make_the_command_opaque(
    tmp_path: Path, command: str
) -> None:
    decision = Policy("full-auto", [], tmp_path).decide("shell", {"command": command})
    assert decision.action == "ask", decision


def test_harmless_git_identity_variables_do_not(tmp_path: Path) -> None:
    decision = Policy("full-auto", [], tmp_path).decide(
        "shell", {"command": "GIT_AUTHOR_NAME=x GIT_TERMINAL_PROMPT=0 git commit -m x"}
    )
    assert decision.action == "allow", decision
