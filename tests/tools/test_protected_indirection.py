"""Protected paths reached by indirection ask in every mode (issue 31 row 10, row 6's globs):
a symlinked directory, a glob or brace that expands to one, a git command that writes git
metadata without naming it. Decisions name what the indirection reaches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness_ls.tools.braces import expand_braces
from harness_ls.tools.consent import shell_view
from harness_ls.tools.policy import Policy, Rule
from harness_ls.tools.protected import protected_operand


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".harness").mkdir(parents=True)
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".env.local").write_text("API_KEY=sk-secret\n")
    (root / "src").mkdir()
    os.symlink(".harness", root / "h")
    os.symlink(".git", root / "g")
    return root


@pytest.mark.parametrize("mode", ["auto-edit", "full-auto"])
@pytest.mark.parametrize(
    ("tool", "path", "reaches"),
    [
        ("write_file", "h/policy.toml", ".harness/policy.toml"),
        ("edit", "h/policy.toml", ".harness"),
        ("write_file", "h", ".harness"),
    ],  # fmt: skip
)
def test_a_write_through_a_link_to_a_protected_dir_asks_naming_both(
    ws: Path, mode: str, tool: str, path: str, reaches: str
) -> None:
    policy = Policy(mode, [Rule("allow", "write", "**", "user [allow]")], ws)
    decision = policy.decide(tool, {"path": path, "content": "", "old": "a", "new": "b"})
    assert decision.action == "ask", decision
    assert decision.protected == path and reaches in decision.rule


def test_deny_and_ask_rules_also_see_the_path_a_link_reaches(ws: Path) -> None:
    os.symlink(".env.local", ws / "e")
    policy = Policy("full-auto", [Rule("deny", "read", ".env*", "user [deny]")], ws)
    decision = policy.decide("read_file", {"path": "e"})
    assert decision.action == "deny" and "via e -> .env.local" in decision.rule


FULL_AUTO_ASKS = [
    ("cp x h/policy.toml", ".harness/policy.toml"),
    ("echo x > h/policy.toml", ".harness/policy.toml"),
    ("sed -i s/a/b/ g/config", ".git/config"),
    ("cp x .gi?/config", ".git/config"),
    ("cp x .g*/config", ".git/config"),
    ("sed -i 's/x/y/' .g*/config", ".git/config"),
    ("cp x .[g]it/hooks/pre-commit", ".git/hooks/pre-commit"),
    ("cp x .{git,y}/config", ".git/config"),
    ("tee .ha*/policy.toml", ".harness/policy.toml"),
    ("cp evil .e*", ".env.local"),
    ("sort -o.git/config x", ".git/config"),
    ("install -D x --target-directory=.harness", ".harness"),
    ("git config core.fsmonitor 'touch pwned'", ".git/config"),
    ("git config --local core.hooksPath /tmp/h", ".git/config"),
    ("git -C . config core.pager x", ".git/config"),
    ("git config --unset-all core.x", ".git/config"),
    ("git remote add o 'ext::sh -c touch% pwned'", ".git/config"),
    ("git submodule add ./x y", "git metadata"),
    ("git init", ".git"),
    ("git lfs install", "git hooks"),
    ("ln -s .harness h2", ".harness"),
]


@pytest.mark.parametrize(("command", "named"), FULL_AUTO_ASKS)
def test_indirect_writes_to_protected_paths_ask_even_in_full_auto(
    ws: Path, command: str, named: str
) -> None:
    decision = Policy("full-auto", [], ws).decide("shell", {"command": command})
    assert decision.action == "ask", decision
    assert named in decision.rule, decision.rule


def test_a_glob_names_files_that_do_not_exist_yet(tmp_path: Path) -> None:
    """No .git here yet: `.gi?/config` could still name one once `git init` ran."""
    decision = Policy("full-auto", [], tmp_path).decide("shell", {"command": "cp x .gi?/config"})
    assert decision.action == "ask" and ".git" in decision.rule


@pytest.mark.parametrize(
    "command",
    [
        "git config --get core.fsmonitor",
        "git config -l",
        "git config user.name",
        "cp x src/",
        "cp x *.txt",
        "rm -rf build/*",
        "cat .git/config",
    ],  # fmt: skip
)
def test_reads_and_ordinary_globs_are_not_escalated(ws: Path, command: str) -> None:
    assert Policy("full-auto", [], ws).decide("shell", {"command": command}).action == "allow"


def test_a_glob_on_a_secret_file_asks_in_ask_mode_naming_the_file(ws: Path) -> None:
    decision = Policy("ask", [], ws).decide("shell", {"command": "cat .e*"})
    assert decision.action == "ask" and ".env.local" in decision.rule


def test_brace_expansion_is_bounded_and_bash_like() -> None:
    assert expand_braces("a.{txt,bak}") == ["a.txt", "a.bak"]
    assert expand_braces("x{1..3}") == ["x1", "x2", "x3"]
    assert expand_braces("{a,b}{c,d}") == ["ac", "ad", "bc", "bd"]
    assert expand_braces("${x}") == ["${x}"]
    assert expand_braces("{1..100000}") is None


def test_protected_operand_names_the_matches(ws: Path) -> None:
    why = protected_operand(str(ws.resolve()), ".g*/config", None)
    assert why is not None and ".git/config" in why and "git metadata" in why


def test_the_approval_flags_a_command_reaching_a_protected_path(ws: Path) -> None:
    view = shell_view("cp x .gi?/config", ws)
    assert "protected" in [f.code for f in view.flags]
    assert "evaluates" in [f.code for f in shell_view("(( x ))", ws).flags]
    assert "run_options" in [f.code for f in shell_view("make test --eval=x", ws).flags]
    assert "unbounded" in [f.code for f in shell_view("seq 1 99999999999", ws).flags]


@pytest.mark.parametrize(
    "tool", ["read_file", "write_file", "edit", "list_dir", "search", "git_diff"]
)
def test_a_nul_byte_in_a_path_is_decided_not_a_crash(ws: Path, tool: str) -> None:
    """Resolving through links must not raise on a NUL byte: the file tool refuses it by name."""
    path = "greet.txt\x00.txt"
    args = {"path": path, "paths": [path], "content": "x", "old": "a", "new": "b", "pattern": "x"}
    assert Policy("auto-edit", [], ws).decide(tool, args).action in ("allow", "ask")
