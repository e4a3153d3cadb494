"""Policy: mode defaults, rule precedence (deny > ask > allow), files, session rules, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_ls.errors import InvalidInput
from harness_ls.tools import TOOLS, Policy, command_prefix, parse_args
from harness_ls.tools.policy import Rule
from harness_ls.tools.trust import trust

WS_POLICY = """
[allow]
shell = ["pytest *", "ruff check *"]
write = ["docs/**"]

[ask]
shell = ["pytest --update-snapshots *"]
write = ["docs/private/**"]

[deny]
shell = ["rm -rf *", "git push *"]
read = [".env"]
write_file = ["*.lock"]
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace whose policy file the user trusts (its data dir is `<tmp>/data`)."""
    root = tmp_path / "ws"
    (root / ".harness").mkdir(parents=True)
    (root / ".harness" / "policy.toml").write_text(WS_POLICY)
    trust(tmp_path / "data", root / ".harness" / "policy.toml")
    return root


def _d(policy: Policy, tool: str, **args: object) -> tuple[str, str]:
    decision = policy.decide(tool, args)
    return decision.action, decision.rule


@pytest.mark.parametrize(
    ("mode", "tool", "args", "action"),
    [
        ("ask", "read_file", {"path": "a.py"}, "allow"),
        ("ask", "search", {"pattern": "x"}, "allow"),
        ("ask", "write_file", {"path": "a.py", "content": ""}, "ask"),
        ("ask", "edit", {"path": "a.py", "old": "a", "new": "b"}, "ask"),
        ("ask", "shell", {"command": "make"}, "ask"),
        ("read-only", "read_file", {"path": "a.py"}, "allow"),
        ("read-only", "write_file", {"path": "a.py", "content": ""}, "deny"),
        ("read-only", "shell", {"command": "make"}, "deny"),
        ("auto-edit", "edit", {"path": "a.py", "old": "a", "new": "b"}, "allow"),
        ("auto-edit", "shell", {"command": "make"}, "ask"),
        ("full-auto", "shell", {"command": "make"}, "allow"),
        ("full-auto", "write_file", {"path": "a.py", "content": ""}, "allow"),
    ],
)
def test_mode_defaults_without_rules(
    tmp_path: Path, mode: str, tool: str, args: dict, action: str
) -> None:
    decision = Policy.load(tmp_path, None, mode).decide(tool, args)
    assert decision.action == action
    assert decision.rule.startswith(f"mode {mode}:")


def test_default_rule_text_says_why(tmp_path: Path) -> None:
    policy = Policy.load(tmp_path, None)
    assert _d(policy, "write_file", path="x") == ("ask", "mode ask: writes ask by default")
    assert _d(policy, "read_file", path="x") == ("allow", "mode ask: reads allowed by default")


@pytest.mark.parametrize(
    ("tool", "args", "action", "rule"),
    [
        ("shell", {"command": "pytest -q tests"}, "allow", "[allow] shell 'pytest *'"),
        ("shell", {"command": "pytest"}, "allow", "[allow] shell 'pytest *'"),
        (
            "shell",
            {"command": "pytest --update-snapshots x"},
            "ask",
            "[ask] shell 'pytest --update-snapshots *'",
        ),
        ("shell", {"command": "rm -rf build"}, "deny", "[deny] shell 'rm -rf *'"),
        ("shell", {"command": "pytest -q && rm -rf /"}, "deny", "[deny] shell 'rm -rf *'"),
        ("shell", {"command": "pytest -q; curl evil"}, "ask", "mode ask"),
        ("shell", {"command": "pytest $(curl evil)"}, "ask", "mode ask"),
        ("shell", {"command": "pytest -q && ruff check ."}, "allow", "[allow] shell"),
        ("shell", {"command": "make"}, "ask", "mode ask: shell commands ask by default"),
        ("write_file", {"path": "docs/a/b.md", "content": ""}, "allow", "[allow] write 'docs/**'"),
        (
            "edit",
            {"path": "./docs/x.md", "old": "a", "new": "b"},
            "allow",
            "[allow] write 'docs/**'",
        ),
        (
            "write_file",
            {"path": "docs/private/k.md", "content": ""},
            "ask",
            "[ask] write 'docs/private/**'",
        ),
        (
            "write_file",
            {"path": "src/a.py", "content": ""},
            "ask",
            "mode ask: writes ask by default",
        ),
        (
            "write_file",
            {"path": "sub/poetry.lock", "content": ""},
            "deny",
            "[deny] write_file '*.lock'",
        ),
        ("edit", {"path": "poetry.lock", "old": "a", "new": "b"}, "ask", "mode ask"),
        ("read_file", {"path": ".env"}, "deny", "[deny] read '.env'"),
        ("read_file", {"path": "src/.env"}, "deny", "[deny] read '.env'"),
        ("read_file", {"path": "env.txt"}, "allow", "mode ask"),
    ],
)
def test_precedence_table(ws: Path, tool: str, args: dict, action: str, rule: str) -> None:
    decision = Policy.load(ws, ws.parent / "data").decide(tool, args)
    assert decision.action == action, decision
    assert rule in decision.rule


def test_rule_names_its_file(ws: Path) -> None:
    rule = Policy.load(ws, ws.parent / "data").decide("shell", {"command": "rm -rf x"}).rule
    assert rule == ".harness/policy.toml [deny] shell 'rm -rf *'"


def test_deny_beats_ask_beats_allow_across_files(ws: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "policy.toml").write_text(
        '[allow]\nshell = ["rm -rf *", "git push *"]\n[ask]\nwrite = ["docs/**"]\n'
    )
    policy = Policy.load(ws, data)
    assert policy.decide("shell", {"command": "rm -rf x"}).action == "deny"
    decision = policy.decide("write_file", {"path": "docs/a.md", "content": ""})
    assert decision.action == "ask" and str(data / "policy.toml") in decision.rule


def test_modes_with_rules(ws: Path) -> None:
    full = Policy.load(ws, ws.parent / "data", "full-auto")
    assert full.decide("shell", {"command": "rm -rf x"}).action == "deny"
    assert full.decide("write_file", {"path": "docs/private/a", "content": ""}).action == "allow"
    ro = Policy.load(ws, ws.parent / "data", "read-only")
    decision = ro.decide("shell", {"command": "pytest -q"})
    assert (
        decision.action == "deny" and decision.rule == "mode read-only: shell commands are denied"
    )
    auto = Policy.load(ws, ws.parent / "data", "auto-edit")
    assert auto.decide("write_file", {"path": "docs/private/a", "content": ""}).action == "ask"
    assert auto.decide("write_file", {"path": "src/a.py", "content": ""}).action == "allow"


def test_mode_precedence_caller_then_workspace_then_data_dir(ws: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "policy.toml").write_text('mode = "full-auto"\n')
    assert Policy.load(ws, data, None).mode == "full-auto"
    assert Policy.load(ws, data, "ask").mode == "ask"
    (ws / ".harness" / "policy.toml").write_text('mode = "read-only"\n' + WS_POLICY)
    assert Policy.load(ws, data, None).mode == "read-only"
    assert Policy.load(ws, data, "auto-edit").mode == "auto-edit"


def test_workspace_file_cannot_choose_full_auto(ws: Path) -> None:
    (ws / ".harness" / "policy.toml").write_text('mode = "full-auto"\n')
    with pytest.raises(InvalidInput, match="cannot be set in a workspace policy file") as info:
        Policy.load(ws, ws.parent / "data", None)
    assert "data dir" in (info.value.hint or "")


def test_workspace_template_from_agentctl_init_loads(tmp_path: Path) -> None:
    template = Path(__file__).parents[2] / "harness_ls" / "scaffold" / "templates" / "policy.toml"
    (tmp_path / ".harness").mkdir()
    (tmp_path / ".harness" / "policy.toml").write_text(template.read_text())
    policy = Policy.load(tmp_path, None, None)
    assert policy.mode == "ask"
    assert policy.decide("shell", {"command": "git push origin main"}).action == "deny"


def test_session_rule_approve_similar(tmp_path: Path) -> None:
    policy = Policy.load(tmp_path, None)
    args = parse_args(TOOLS["shell"], {"command": "pytest -q tests/test_a.py"})
    pattern = policy.similar_pattern("shell", args)
    assert pattern == "pytest *"
    policy.with_session_rule("shell", pattern, "allow")
    decision = policy.decide("shell", {"command": "pytest tests/test_b.py"})
    assert decision.action == "allow" and decision.rule == "session shell 'pytest *'"
    assert policy.decide("shell", {"command": "python -m pytest"}).action == "ask"


def test_session_rule_for_writes_covers_the_same_directory(tmp_path: Path) -> None:
    policy = Policy.load(tmp_path, None)
    pattern = policy.similar_pattern("edit", {"path": "src/pkg/a.py", "old": "a", "new": "b"})
    assert pattern == "/src/pkg/*"
    policy.with_session_rule("edit", pattern, "allow")
    assert policy.decide("write_file", {"path": "src/pkg/b.py", "content": ""}).action == "allow"
    assert (
        policy.decide("edit", {"path": "src/pkg/sub/c.py", "old": "a", "new": "b"}).action == "ask"
    )
    assert policy.decide("edit", {"path": "src/other.py", "old": "a", "new": "b"}).action == "ask"
    root = policy.similar_pattern("write_file", {"path": "README.md", "content": ""})
    policy.with_session_rule("write_file", root, "allow")
    assert policy.decide("edit", {"path": "CHANGELOG.md", "old": "a", "new": "b"}).action == "allow"
    assert (
        policy.decide("edit", {"path": "docs/CHANGELOG.md", "old": "a", "new": "b"}).action == "ask"
    )


def test_session_allow_does_not_beat_a_deny(ws: Path) -> None:
    policy = Policy.load(ws, ws.parent / "data")
    policy.with_session_rule("shell", "rm *", "allow")
    assert policy.decide("shell", {"command": "rm -rf build"}).action == "deny"


def test_absolute_paths_inside_workspace_are_matched_relative(ws: Path) -> None:
    policy = Policy.load(ws, ws.parent / "data")
    target = ws.resolve() / "docs" / "a.md"
    assert policy.decide("write_file", {"path": str(target), "content": ""}).action == "allow"


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        ("pytest -q tests/x.py", "pytest"),
        ("git commit -m 'x y'", "git commit"),
        ("python -m pytest -q", "python -m pytest"),
        ("npm run test", "npm run test"),
        ("./scripts/check.sh --fast", "./scripts/check.sh"),
        ("", ""),
    ],
)
def test_command_prefix(command: str, prefix: str) -> None:
    assert command_prefix(command) == prefix


def test_unknown_tool_is_denied(tmp_path: Path) -> None:
    decision = Policy.load(tmp_path, None).decide("format_disk", {})
    assert decision.action == "deny" and "unknown tool" in decision.rule


def test_command_matching_rules() -> None:
    policy = Policy(
        "ask", [Rule("allow", "shell", "*", "t"), Rule("deny", "shell", "git push *", "t")]
    )
    assert policy.decide("shell", {"command": "anything; at all"}).action == "allow"
    assert policy.decide("shell", {"command": "git status && git push origin"}).action == "deny"
    strict = Policy(
        "ask", [Rule("allow", "shell", "ls *", "t"), Rule("allow", "shell", "npm test", "t")]
    )
    assert strict.decide("shell", {"command": "ls `rm -rf ~`"}).action == "ask"
    assert strict.decide("shell", {"command": "npm   test"}).action == "allow"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[allow\nshell = 1", "not valid TOML"),
        ("[allow]\nshell = 3\n", "must be a string or a list"),
        ('[allow]\nshell = [""]\n', "must be a string or a list"),
        ('[allow]\nbash = ["x"]\n', "'bash' is not a tool or kind"),
        ('[permit]\nshell = ["x"]\n', "unexpected 'permit'"),
        ('mode = "yolo"\n', "is not a mode"),
    ],
)
def test_malformed_policy_file_names_the_file_and_problem(
    ws: Path, text: str, message: str
) -> None:
    path = ws / ".harness" / "policy.toml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as info:
        Policy.load(ws, ws.parent / "data")
    assert str(path) in info.value.message and message in info.value.message


def test_toml_syntax_error_names_the_line(ws: Path) -> None:
    (ws / ".harness" / "policy.toml").write_text('[allow]\nshell = ["ok"]\nwrite = [docs/**]\n')
    with pytest.raises(InvalidInput, match="line 3"):
        Policy.load(ws, ws.parent / "data")


def test_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown policy mode 'yolo'") as info:
        Policy.load(tmp_path, None, "yolo")
    assert "full-auto" in (info.value.hint or "")


def test_rules_can_be_built_in_code() -> None:
    policy = Policy("ask", [Rule("allow", "shell", "make *", "test")])
    assert policy.decide("shell", {"command": "make check"}).rule == "test shell 'make *'"


def test_a_rule_label_kept_after_its_first_use_leaves_equality_hash_and_repr_alone() -> None:
    used, fresh = (
        Rule("deny", "shell", "rm *", "user [deny]"),
        Rule("deny", "shell", "rm *", "user [deny]"),
    )
    assert used.label() == "user [deny] shell 'rm *'"
    assert used.label() is used.label()
    assert used == fresh and hash(used) == hash(fresh) and repr(used) == repr(fresh)
    assert used != Rule("deny", "shell", "rm -r *", "user [deny]")
