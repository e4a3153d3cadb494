"""Editor settings are protected like `.git/config` (the editor runs what they name, outside the
sandbox), and a redirection with no command (`$(> file)`, `$(< file)`) is a part the policy sees.
Decisions are exact: the action and the reason naming the path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness_ls.tools.policy import Policy, Rule
from harness_ls.tools.protected import EDITOR_REASON, protected_reason

ECHO = [Rule("allow", "shell", "echo *", "test"), Rule("allow", "shell", "tee *", "test")]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".vscode").mkdir(parents=True)
    (root / ".vscode" / "settings.json").write_text("{}\n")
    (root / ".git").mkdir()
    (root / ".env").write_text("API_KEY=sk-secret\n")
    (root / "notes.txt").write_text("hi\n")
    os.symlink(".vscode", root / "v")
    return root


@pytest.mark.parametrize(
    ("rel", "why"),
    [(".vscode/settings.json", EDITOR_REASON), (".vscode", EDITOR_REASON),
     (".idea/workspace.xml", EDITOR_REASON), (".zed/settings.json", EDITOR_REASON),
     (".helix/languages.toml", EDITOR_REASON), (".nvim.lua", EDITOR_REASON),
     (".exrc", EDITOR_REASON), (".dir-locals.el", EDITOR_REASON),
     ("src/.nvim.lua", None), ("docs/.vscode.md", None), ("src/vscode.py", None)],
)  # fmt: skip
def test_which_paths_are_editor_settings(rel: str, why: str | None) -> None:
    assert protected_reason(rel) == why


@pytest.mark.parametrize("mode", ["auto-edit", "full-auto"])  # mode ask asks for every write
@pytest.mark.parametrize(
    ("tool", "args", "named"),
    [("write_file", {"path": ".vscode/settings.json", "content": "{}"}, ".vscode/settings.json"),
     ("write_file", {"path": "v/tasks.json", "content": "{}"}, ".vscode"),
     ("write_file", {"path": ".nvim.lua", "content": ""}, ".nvim.lua"),
     ("shell", {"command": "echo '{}' > .vscode/settings.json"}, ".vscode/settings.json"),
     ("shell", {"command": "echo x > .idea/workspace.xml"}, ".idea/workspace.xml"),
     ("shell", {"command": "echo x | tee .exrc"}, ".exrc")],
)  # fmt: skip
def test_writing_editor_settings_asks_in_every_mode_that_writes(
    ws: Path, mode: str, tool: str, args: dict, named: str
) -> None:
    d = Policy(mode, ECHO, ws, ws.parent / "data").decide(tool, args)
    assert d.action == "ask"
    assert named in d.rule and EDITOR_REASON in d.rule


def test_reading_editor_settings_does_not_ask(ws: Path) -> None:
    d = Policy("auto-edit", [], ws, ws.parent / "data").decide(
        "read_file", {"path": ".vscode/settings.json"}
    )
    assert (d.action, d.rule) == ("allow", "mode auto-edit: reads allowed by default")


@pytest.mark.parametrize("mode", ["ask", "auto-edit", "full-auto"])
@pytest.mark.parametrize(
    ("command", "rule"),
    [('echo "$(> .git/config)"', "writes the protected file .git/config (git metadata)"),
     ("echo $(> /tmp/x)", "writes outside the workspace: /tmp/x"),
     ("echo `> .git/config`", "writes the protected file .git/config (git metadata)"),
     ('echo "$(< .env)"', "redirect from '.env' reads the secret file .env "
                          "(an environment file that may hold secrets)"),
     ("x=$(<.env)", "redirect from '.env' reads the secret file .env "
                    "(an environment file that may hold secrets)")],
)  # fmt: skip
def test_a_redirection_with_no_command_is_decided(ws: Path, mode: str, command: str, rule: str):
    d = Policy(mode, ECHO, ws, ws.parent / "data").decide("shell", {"command": command})
    assert (d.action, d.rule) == ("ask", rule)


def test_a_plain_substitution_read_still_asks_in_ask_mode(ws: Path) -> None:
    d = Policy("ask", ECHO, ws, ws.parent / "data").decide(
        "shell", {"command": "echo $(< notes.txt)"}
    )
    assert (d.action, d.rule) == ("ask", "mode ask: shell commands ask by default")
    assert [p.argv for p in d.parts] == [["echo", "$(< notes.txt)"], []]
