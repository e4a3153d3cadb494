"""In an allow rule, `*` covers operands and options known not to change what runs — never
`make test --eval=…`, `go test -exec`, `cargo test --config`, `npm test --script-shell`,
`pytest -p`/`--rootdir` outside, a variable set before the command, nor a path outside the
workspace. Issue 31 row 4: the rules `agentctl init` writes are exact.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harness_ls.scaffold import template_text
from harness_ls.tools.policy import Policy, Rule
from harness_ls.tools.runopts import runner_for, uncovered

INIT_RULES = tomllib.loads(template_text("policy.toml"))["allow"]["shell"]


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    rules = [Rule("allow", "shell", p, "init [allow]") for p in INIT_RULES]
    rules += [Rule("allow", "shell", p, "user [allow]") for p in
              ("ruff check *", "mytool *", "pytest -p xdist *", "CI=1 pytest *", "*")[:4]]  # fmt: skip
    return Policy("ask", rules, ws, tmp_path / "data")


RUN_CHANGERS = [
    "make test --eval='x:=$(shell touch pwned)'", "make test --ev='x:=1'", "make test -f evil.mk",
    "make test --file=evil.mk", "make test --makefile evil.mk", "make test -C /tmp",
    "make test --directory=/tmp", "make test -I /tmp", "make test -E 'x:=1'",
    "make test SHELL='/bin/sh -c touch'", "make test .SHELLFLAGS=-c", "make test MAKEFLAGS=x",
    "make test install", "make test -kf evil.mk", "make test -e",
    "go test -exec 'sh -c touch' ./...", "go test -toolexec=x ./...", "go test -ldflags=-X ./...",
    "go test -gcflags=all=-N ./...", "go test -overlay x.json ./...", "go test -vettool=x ./...",
    "go test -modfile=x.mod ./...", "go test -C /tmp ./...", "go test ./... -args -x",
    "cargo test --config 'target.x.runner=\"sh\"'", "cargo test -Z unstable-options",
    "cargo test --manifest-path /tmp/Cargo.toml", "cargo test --target-dir /tmp/t",
    "cargo test -- --logfile /tmp/x",
    "npm test --script-shell=/tmp/sh", "npm test --node-options=--require=./evil.js",
    "npm test --prefix /tmp", "npm test -- --setupFiles=evil.js", "npm test --userconfig=x",
    "pytest -p evil", "pytest -pevil", "pytest --rootdir=/tmp/evil", "pytest -c /tmp/x.ini",
    "pytest --confcutdir=/tmp", "pytest -o addopts=-pevil", "pytest --override-ini=x=y",
    "pytest --basetemp=src", "pytest --pdbcls=evil:Pdb", "pytest -W ignore::evil.Warn",
    "pytest /tmp/evil/test_x.py", "pytest ../elsewhere", "pytest ~/x", "pytest -- -p evil",
    "pytest --root=/tmp", "python -m pytest -p evil", "python3 -m pytest --rootdir /tmp",
    "PYTEST_ADDOPTS='-p evil' pytest", "PYTHONPATH=/tmp pytest", "FOO=1 go test ./...",
    "ruff check --config 'lint.x=1' .", "mytool --exec=x", "mytool -x",
]  # fmt: skip

STILL_ALLOWED = [
    "pytest", "pytest -q", "pytest -xq tests/test_a.py::test_b", "pytest -k 'a and not b' -x",
    "pytest --maxfail=2 --tb=short tests", "pytest -n 4", "python -m pytest -q tests",
    "python3 -m pytest -vv", "make test", "make test -k -j4", "make test --no-print-directory",
    "go test ./...", "go test -v -run TestX -count=1 ./...", "go test -race -short ./pkg/...",
    "cargo test", "cargo test --release -p core", "cargo test case_1 -- --nocapture",
    "npm test", "npm test --silent", "ruff check --fix .", "mytool build", "pytest -p xdist -q",
    "CI=1 pytest -q",
]  # fmt: skip


@pytest.mark.parametrize("command", RUN_CHANGERS)
def test_a_wildcard_never_covers_what_changes_what_runs(policy: Policy, command: str) -> None:
    decision = policy.decide("shell", {"command": command})
    assert decision.action == "ask", decision


@pytest.mark.parametrize("command", STILL_ALLOWED)
def test_operands_and_known_harmless_options_stay_allowed(policy: Policy, command: str) -> None:
    decision = policy.decide("shell", {"command": command})
    assert decision.action == "allow", decision


def test_the_decision_says_which_word_the_rule_does_not_cover(policy: Policy) -> None:
    decision = policy.decide("shell", {"command": "make test --eval='x:=1'"})
    assert "'make test *' does not cover '--eval'" in decision.rule


def test_a_pattern_starting_with_a_wildcard_allows_any_program(tmp_path: Path) -> None:
    policy = Policy("ask", [Rule("allow", "shell", "*", "user [allow]")], tmp_path)
    assert policy.decide("shell", {"command": "make test --eval=x"}).action == "allow"


def test_deny_rules_still_match_with_assignments_in_front(tmp_path: Path) -> None:
    policy = Policy("full-auto", [Rule("deny", "shell", "rm *", "user [deny]")], tmp_path)
    assert policy.decide("shell", {"command": "FOO=1 rm -rf x"}).action == "deny"


@pytest.mark.parametrize("rule", INIT_RULES)
def test_init_rules_are_exact_for_their_runner(rule: str) -> None:
    """Every runner init allows has a table of options known not to change what runs."""
    words = tuple(rule.removesuffix(" *").split())
    assert runner_for(words)[1] is not None, rule
    assert uncovered(rule, (*words, "--surely-not-an-option"), (), "/") is not None


def test_init_trusted_policy_runs_no_hostile_runner_form(tmp_path: Path) -> None:
    """Row 4 at the policy level: with only init's rules, no run-changing form is allowed."""
    policy = Policy("ask", [Rule("allow", "shell", p, "init") for p in INIT_RULES], tmp_path)
    for command in RUN_CHANGERS:
        if not command.startswith(("ruff", "mytool")):
            assert policy.decide("shell", {"command": command}).action == "ask", command
