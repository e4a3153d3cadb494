"""Policy files: the rules and mode a `policy.toml` holds, read and checked (tools/policy.py
decides with them). A file that is not valid — not TOML, an unknown table, key or mode, a workspace
file choosing full-auto — is refused with what to fix, never half-read.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness_ls.errors import InvalidInput
from harness_ls.tools.sandbox import KEYS as SANDBOX_KEYS
from harness_ls.tools.shellpolicy import Action, Rule

__all__ = ["ACTIONS", "MODES", "RULE_KEYS", "TOOL_KINDS", "load_file", "parse_file"]

ACTIONS: tuple[Action, ...] = ("deny", "ask", "allow")  # precedence order
MODES = ("read-only", "ask", "auto-edit", "full-auto")  # narrowest first
TOOL_KINDS = {
    "read_file": "read",
    "list_dir": "read",
    "search": "read",
    "git_diff": "read",
    "edit": "write",
    "write_file": "write",
    "shell": "shell",
}
RULE_KEYS = frozenset(TOOL_KINDS) | {"read", "write"}


def load_file(path: Path, shown: str, *, workspace_file: bool) -> tuple[list[Rule], str | None]:
    if not path.is_file():
        return [], None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc}") from None
    return parse_file(path, text, shown, workspace_file=workspace_file)


def parse_file(
    path: Path, text: str, shown: str, *, workspace_file: bool
) -> tuple[list[Rule], str | None]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            f"{path}: not valid TOML: {exc}", hint="fix the file or remove it"
        ) from None
    rules: list[Rule] = []
    mode = None
    for top, value in doc.items():
        if top == "mode":
            if value not in MODES:
                raise InvalidInput(
                    f"{path}: mode = {value!r} is not a mode",
                    hint="use one of: " + ", ".join(MODES),
                )
            if workspace_file and value == "full-auto":
                raise InvalidInput(
                    f'{path}: mode = "full-auto" cannot be set in a workspace policy file',
                    hint="a repository may not let itself run commands unasked; choose full-auto "
                    "with the mode option or in the data dir's policy.toml",
                )
            mode = value
            continue
        if top in SANDBOX_KEYS:
            continue  # read by tools/sandbox.py
        if top not in ACTIONS or not isinstance(value, dict):
            raise InvalidInput(
                f"{path}: unexpected {top!r}",
                hint='the file holds mode = "..." and the tables [allow], [ask], [deny]',
            )
        for key, patterns in value.items():
            if key not in RULE_KEYS:
                raise InvalidInput(
                    f"{path}: [{top}] {key!r} is not a tool or kind",
                    hint="use one of: " + ", ".join(sorted(RULE_KEYS)),
                )
            if isinstance(patterns, str):
                patterns = [patterns]
            if not isinstance(patterns, list) or not all(
                isinstance(p, str) and p for p in patterns
            ):
                raise InvalidInput(
                    f"{path}: [{top}] {key} must be a string or a list of non-empty strings",
                    hint=f'e.g. {key} = ["pytest *"]'
                    if key == "shell"
                    else f'e.g. {key} = ["docs/**"]',
                )
            rules += [Rule(top, key, p, f"{shown} [{top}]") for p in patterns]
    return rules, mode
