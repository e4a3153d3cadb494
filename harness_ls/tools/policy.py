"""Approval policy: which tool calls run, ask a human first, or are refused — and which rule said so.

Rules come from `<workspace>/.harness/policy.toml` and `<data_dir>/policy.toml`, plus session rules
added by "approve similar for this run". Among the rules that match a call, deny beats ask beats
allow; with no matching rule the mode decides (reads allowed; writes and shell ask in `ask`).
See docs/policy.md.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from harness_ls.errors import InvalidInput
from harness_ls.tools.globs import PathPattern

Action = Literal["allow", "ask", "deny"]
ACTIONS: tuple[Action, ...] = ("deny", "ask", "allow")  # precedence order
MODES = ("read-only", "ask", "auto-edit", "full-auto")
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
_MODE_DEFAULTS: dict[str, dict[str, Action]] = {
    "read-only": {"read": "allow", "write": "deny", "shell": "deny"},
    "ask": {"read": "allow", "write": "ask", "shell": "ask"},
    "auto-edit": {"read": "allow", "write": "allow", "shell": "ask"},
    "full-auto": {"read": "allow", "write": "allow", "shell": "allow"},
}
_PLURAL = {"read": "reads", "write": "writes", "shell": "shell commands"}
_CONTROL = re.compile(r"&&|\|\||[;|&\n]")
_SUBST = re.compile(r"`|\$\(|<\(|>\(")


class Decision(BaseModel):
    action: Action
    rule: str  # which rule decided, e.g. "policy.toml [deny] shell 'rm -rf *'"
    subject: str | None = None  # what was matched: the command or the workspace-relative path


@dataclass(frozen=True)
class Rule:
    action: Action
    key: str  # tool name or kind ("read" / "write" / "shell")
    pattern: str
    source: str  # "<file> [allow]" or "session"

    def label(self) -> str:
        return f"{self.source} {self.key} {self.pattern!r}"


class Policy:
    """Decides allow / ask / deny per tool call; cheap enough to run on every call."""

    def __init__(
        self, mode: str = "ask", rules: list[Rule] | None = None, workspace: Path | None = None
    ) -> None:
        if mode not in MODES:
            raise InvalidInput(
                f"unknown policy mode {mode!r}", hint="use one of: " + ", ".join(MODES)
            )
        self.mode = mode
        self.rules: list[Rule] = list(rules or [])
        self.session_rules: list[Rule] = []
        self.workspace = Path(workspace).resolve() if workspace else None
        self._compiled: dict[str, PathPattern] = {}

    @classmethod
    def load(
        cls, workspace: Path, data_dir: Path | None = None, mode: str | None = "ask"
    ) -> Policy:
        """Rules from the data dir's and the workspace's policy.toml.

        The mode is `mode` if given, else the workspace file's `mode`, else the data dir file's,
        else "ask". A workspace file may not choose `full-auto`: a cloned repository must not be
        able to run shell commands without asking."""
        rules: list[Rule] = []
        user_mode: str | None = None
        if data_dir is not None:
            path = Path(data_dir) / "policy.toml"
            file_rules, user_mode = _load_file(path, str(path), workspace_file=False)
            rules += file_rules
        ws_file = Path(workspace) / ".harness" / "policy.toml"
        ws_rules, ws_mode = _load_file(ws_file, ".harness/policy.toml", workspace_file=True)
        rules += ws_rules
        return cls(mode or ws_mode or user_mode or "ask", rules, workspace)

    def with_session_rule(self, tool: str, pattern: str, action: Action = "allow") -> None:
        """A rule for the rest of this run/session ("approve similar"). Write tools share one key,
        so approving an edit in `src/` also covers write_file there."""
        if action not in ACTIONS:
            raise InvalidInput(f"unknown action {action!r}", hint="use allow, ask or deny")
        key = TOOL_KINDS.get(tool, tool)
        key = key if key in ("write", "shell") else tool
        self.session_rules.append(Rule(action, key, pattern, "session"))

    def decide(self, tool: str, args: BaseModel | dict[str, Any] | None) -> Decision:
        kind = TOOL_KINDS.get(tool)
        if kind is None:
            return Decision(action="deny", rule=f"unknown tool {tool!r}")
        data = _as_dict(args)
        subject = self._subject(tool, data)
        keys = (tool, kind)
        applicable = [r for r in (*self.rules, *self.session_rules) if r.key in keys]
        matched: dict[Action, Rule] = {}
        for rule in applicable:
            if rule.action != "allow" and rule.action not in matched:
                if self._matches(rule, kind, subject):
                    matched[rule.action] = rule
        allows = [r for r in applicable if r.action == "allow"]
        if allows and "deny" not in matched:
            allow = self._allowed_by(allows, kind, subject)
            if allow is not None:
                matched["allow"] = allow
        if "deny" in matched:
            return Decision(action="deny", rule=matched["deny"].label(), subject=subject)
        default = _MODE_DEFAULTS[self.mode][kind]
        if self.mode == "read-only" and kind != "read":
            return Decision(
                action="deny", rule=f"mode read-only: {_PLURAL[kind]} are denied", subject=subject
            )
        if self.mode == "full-auto":
            return Decision(
                action="allow", rule="mode full-auto: allowed unless denied", subject=subject
            )
        for action in ("ask", "allow"):
            if action in matched:
                return Decision(action=action, rule=matched[action].label(), subject=subject)
        verb = {"allow": "allowed", "ask": "ask", "deny": "denied"}[default]
        return Decision(
            action=default,
            rule=f"mode {self.mode}: {_PLURAL[kind]} {verb} by default",
            subject=subject,
        )

    def similar_pattern(self, tool: str, args: BaseModel | dict[str, Any]) -> str:
        """The pattern "approve similar" records: command prefix for shell, same directory for files."""
        data = _as_dict(args)
        if TOOL_KINDS.get(tool) == "shell":
            return command_prefix(str(data.get("command", ""))) + " *"
        path = self._subject(tool, data) or "."
        parent = posixpath.dirname(path)
        return f"/{parent}/*" if parent else "/*"

    def _subject(self, tool: str, data: dict[str, Any]) -> str:
        if TOOL_KINDS.get(tool) == "shell":
            return str(data.get("command", ""))
        if tool == "git_diff":
            paths = data.get("paths") or ["."]
            return self._norm(str(paths[0]))
        return self._norm(str(data.get("path") or "."))

    def _norm(self, path: str) -> str:
        if self.workspace and path.startswith("/"):
            ws = self.workspace.as_posix()
            path = path[len(ws) + 1 :] if path.startswith(ws + "/") else path
        return posixpath.normpath(path).lstrip("/") if path else "."

    def _allowed_by(self, allows: list[Rule], kind: str, subject: str) -> Rule | None:
        """The allow rule covering the call. A compound command is allowed only when each of its
        parts is covered by some allow rule (the first such rule is reported)."""
        if kind != "shell":
            return next((r for r in allows if self._matches(r, kind, subject)), None)
        whole = next((r for r in allows if command_matches(r.pattern, subject, strict=True)), None)
        if whole is not None or _SUBST.search(subject):
            return whole
        parts = command_parts(subject)
        used: list[Rule] = []
        for part in parts:
            rule = next((r for r in allows if _glob_cmd(r.pattern, part)), None)
            if rule is None:
                return None
            used.append(rule)
        return used[0] if used else None

    def _matches(self, rule: Rule, kind: str, subject: str) -> bool:
        if kind == "shell":
            return command_matches(rule.pattern, subject, strict=rule.action == "allow")
        pat = self._compiled.get(rule.pattern)
        if pat is None:
            pat = self._compiled[rule.pattern] = PathPattern(rule.pattern)
        return pat.matches_or_within(subject)


def command_matches(pattern: str, command: str, *, strict: bool) -> bool:
    """Glob-match a shell command; `*` matches anything, and `pytest *` also matches bare `pytest`.

    For allow rules (`strict`) a compound command (`a && b`, `a; b`, pipes) matches only if every
    part does, and command substitution never matches, so `pytest *` cannot smuggle `; rm -rf ~`.
    For deny/ask rules matching any part is enough.
    """
    command = " ".join(command.split())
    parts = command_parts(command)
    if strict:
        if pattern.strip() != "*" and _SUBST.search(command):
            return False
        return bool(parts) and all(_glob_cmd(pattern, p) for p in parts)
    return _glob_cmd(pattern, command) or any(_glob_cmd(pattern, p) for p in parts)


def command_parts(command: str) -> list[str]:
    """The simple commands of a compound one (split at ;, &&, ||, |, & and newlines)."""
    return [p.strip() for p in _CONTROL.split(" ".join(command.split())) if p.strip()]


def _glob_cmd(pattern: str, command: str) -> bool:
    rx = _CMD_CACHE.get(pattern)
    if rx is None:
        body = " ".join(pattern.split())
        text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in body)
        if body.endswith(" *"):
            text = text[: -len(re.escape(" ") + ".*")] + "(?: .*)?"
        rx = _CMD_CACHE[pattern] = re.compile(text, re.DOTALL)
    return rx.fullmatch(command) is not None


_CMD_CACHE: dict[str, re.Pattern[str]] = {}
_RUNNERS = {
    "python",
    "python3",
    "uv",
    "npm",
    "npx",
    "pnpm",
    "yarn",
    "git",
    "cargo",
    "go",
    "make",
    "poetry",
    "pip",
    "docker",
    "bun",
    "node",
    "dotnet",
    "mvn",
    "gradle",
    "just",
}


def command_prefix(command: str) -> str:
    """`pytest -q tests/x.py` -> `pytest`; `git commit -m x` -> `git commit`; `python -m pytest` kept."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        tokens = command.split()
    if not tokens:
        return ""
    out = [tokens[0]]
    if posixpath.basename(tokens[0]) in _RUNNERS:
        for tok in tokens[1:3]:
            python_module = tok == "-m" and posixpath.basename(tokens[0]).startswith("python")
            if python_module or re.fullmatch(r"[A-Za-z][\w:.-]*", tok):
                out.append(tok)
            else:
                break
    return " ".join(out)


def _as_dict(args: Any) -> dict[str, Any]:
    if args is None:
        return {}
    if isinstance(args, BaseModel):
        return args.model_dump()
    return dict(args)


def _load_file(path: Path, shown: str, *, workspace_file: bool) -> tuple[list[Rule], str | None]:
    if not path.is_file():
        return [], None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            f"{path}: not valid TOML: {exc}", hint="fix the file or remove it"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc}") from None
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
        if top in ("sandbox", "network"):
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
