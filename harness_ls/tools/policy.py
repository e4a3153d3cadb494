"""Approval policy: which tool calls run, ask a human first, or are refused — and which rule said so.

Rules come from `<workspace>/.harness/policy.toml` and `<data_dir>/policy.toml`, plus session rules
added by "approve similar for this run". Among the rules that match a call, deny beats ask beats
allow; with no matching rule the mode decides (reads allowed; writes and shell ask in `ask`).
Shell commands are decided per parsed simple command (tools/shellpolicy.py); writes to protected
paths always ask; a workspace file widens nothing until the user trusts it (tools/trust.py).
See docs/policy.md.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.errors import InvalidInput
from harness_ls.tools.globs import PathPattern
from harness_ls.tools.policyfile import ACTIONS, MODES, TOOL_KINDS, load_file, parse_file
from harness_ls.tools.protected import (
    inside,
    protected_abs,
    protected_reason,
    real_path,
    rel_to,
    resolve_in,
)
from harness_ls.tools.sandbox import secret_patterns
from harness_ls.tools.secretfiles import is_secret_path, secrets_named
from harness_ls.tools.shellparse import parse_command
from harness_ls.tools.shellpolicy import STRICTNESS, Action, PartDecision, Rule, decide_shell
from harness_ls.trust import POLICY, read_config

__all__ = ["ACTIONS", "MODES", "Action", "Decision", "PartDecision", "Policy", "Rule"]

_MODE_DEFAULTS: dict[str, dict[str, Action]] = {
    "read-only": {"read": "allow", "write": "deny", "shell": "deny"},
    "ask": {"read": "allow", "write": "ask", "shell": "ask"},
    "auto-edit": {"read": "allow", "write": "allow", "shell": "ask"},
    "full-auto": {"read": "allow", "write": "allow", "shell": "allow"},
}
_PLURAL = {"read": "reads", "write": "writes", "shell": "shell commands"}


class Decision(BaseModel):
    action: Action
    rule: str  # which rule decided, e.g. "policy.toml [deny] shell 'rm -rf *'"
    subject: str | None = None  # what was matched: the command or the workspace-relative path
    parts: list[PartDecision] = []  # shell: each simple command and the rule that decided it
    protected: str | None = None  # the protected file this call writes (named in the approval)
    secrets: list[str] = []  # secret files the call names: an approval lets it read them

    def record(self, max_parts: int = 100) -> dict[str, Any]:
        """What events keep: bounded, so a 10,000-part command cannot bloat the log."""
        doc = self.model_dump(exclude_none=True)
        if len(self.parts) > max_parts:
            doc["parts"] = doc["parts"][:max_parts]
            doc["parts_omitted"] = len(self.parts) - max_parts
        if not self.parts:
            doc.pop("parts", None)
        if not self.secrets:
            doc.pop("secrets", None)
        return doc


class Policy:
    """Decides allow / ask / deny per tool call; cheap enough to run on every call."""

    def __init__(
        self,
        mode: str = "ask",
        rules: list[Rule] | None = None,
        workspace: Path | None = None,
        data_dir: Path | None = None,
    ) -> None:
        if mode not in MODES:
            raise InvalidInput(
                f"unknown policy mode {mode!r}", hint="use one of: " + ", ".join(MODES)
            )
        self.mode = mode
        self.rules: list[Rule] = list(rules or [])
        self.session_rules: list[Rule] = []
        self.workspace = Path(workspace).resolve() if workspace else None
        self.data_dir = Path(data_dir) if data_dir else None
        self.warnings: list[str] = []  # e.g. an untrusted workspace file tried to widen the policy
        self._compiled: dict[str, PathPattern] = {}
        self.secret_patterns: tuple[str, ...] = ()  # the policy files' extra `secret_files`

    @classmethod
    def load(
        cls, workspace: Path, data_dir: Path | None = None, mode: str | None = "ask"
    ) -> Policy:
        """Rules from the data dir's and the workspace's policy.toml.

        The mode is `mode` if given, else the workspace file's `mode`, else the data dir file's,
        else "ask". A workspace file may only narrow the user's policy: its `[allow]` rules and a
        mode laxer than the user's count only once the user trusted that exact file content
        (`agentctl policy trust`); it can never choose `full-auto`."""
        rules: list[Rule] = []
        user_mode: str | None = None
        if data_dir is not None:
            path = Path(data_dir) / "policy.toml"
            file_rules, user_mode = load_file(path, str(path), workspace_file=False)
            rules += file_rules
        ws_file = read_config(workspace, POLICY, data_dir)  # read once: hashed = parsed
        ws_rules: list[Rule] = []
        ws_mode: str | None = None
        if ws_file.content is not None:
            ws_rules, ws_mode = parse_file(
                ws_file.path, ws_file.text(), POLICY, workspace_file=True
            )
        base_mode = user_mode or "ask"
        widening = [r for r in ws_rules if r.action == "allow"]
        laxer = ws_mode is not None and MODES.index(ws_mode) > MODES.index(base_mode)
        warnings = []
        if ws_file.problem:
            warnings.append(f"{ws_file.path} ignored: {ws_file.problem}")
        if (widening or laxer) and not ws_file.trusted:
            ignored = [f"[allow] {r.key} {r.pattern!r}" for r in widening]
            if laxer:
                ignored.append(f"mode = {ws_mode!r}")
                ws_mode = None
            ws_rules = [r for r in ws_rules if r.action != "allow"]
            warnings.append(
                f".harness/policy.toml in {workspace} widens your policy but is not trusted, so "
                f"these are ignored: {', '.join(ignored)}. " + ws_file.untrusted_note()
            )
        rules += ws_rules
        policy = cls(mode or ws_mode or user_mode or "ask", rules, workspace, data_dir)
        policy.warnings = warnings
        policy.secret_patterns = secret_patterns(workspace, data_dir)
        return policy

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
        if kind == "shell":
            action, rule, parts = decide_shell(
                subject, self.mode, applicable, self.workspace, self.data_dir
            )
            named = self._named_secrets(subject)
            return Decision(action=action, rule=rule, subject=subject, parts=parts, secrets=named)
        decision = self._decide_path(kind, applicable, subject)
        real = self._through_links(subject)
        if real is not None:  # `h/policy.toml` with `h -> .harness`: rules see both names
            other = self._decide_path(kind, applicable, real)
            if STRICTNESS[other.action] > STRICTNESS[decision.action]:
                rule = f"{other.rule} (via {subject} -> {real})"
                decision = other.model_copy(update={"subject": subject, "rule": rule})
        if kind == "write":
            return self._guard_protected(decision, subject, real)
        return self._guard_secret(decision, subject, applicable)

    def _guard_secret(self, decision: Decision, subject: str, applicable: list[Rule]) -> Decision:
        """Reading a secret file asks, naming it, unless an explicit `[allow] read` rule of yours
        (or of a workspace policy you trust) covers it; the mode alone never allows it."""
        if not is_secret_path(subject, self.secret_patterns):
            return decision
        decision = decision.model_copy(update={"secrets": [subject]})
        explicit = any(  # a file rule: "approve similar" never unlocks a secret file
            r.action == "allow" and r.source != "session" and self._matches(r, subject)
            for r in applicable
        )
        if decision.action != "allow" or explicit:
            return decision
        return decision.model_copy(
            update={"action": "ask", "rule": f"secret file {subject}: reading it always asks"}
        )

    def secret_allowed(self, rel: str) -> bool:
        """Whether your rules let tools read this secret file unasked (the sandbox then shows
        it to every command too)."""
        return self.decide("read_file", {"path": rel}).action == "allow"

    def _named_secrets(self, command: str) -> list[str]:
        """Secret files a shell command names literally (an approval of it reveals them)."""
        if self.workspace is None:
            return []
        parsed = parse_command(command)
        flat: list[str] = []  # every word in order, then each once (a wrapper's words recur)
        for p in parsed.parts:  # list.extend per part: dict updates per part cost 3 times more
            flat += p.argv[1:]
            if p.redirects:
                flat += [r.target for r in p.redirects]
        words = dict.fromkeys(flat)
        return secrets_named(words, self.workspace.as_posix(), self.secret_patterns)

    def _through_links(self, subject: str) -> str | None:
        """What a workspace path names after symlinks, when that differs from the path itself
        (workspace-relative, or absolute when a link leads out of the workspace)."""
        if self.workspace is None or not subject or subject == ".":
            return None
        root = real_path(str(self.workspace))
        real = resolve_in(root, subject)
        shown = rel_to(root, real) if inside(root, real) else real
        return None if shown == posixpath.normpath(subject) else shown

    def _decide_path(self, kind: str, applicable: list[Rule], subject: str) -> Decision:
        matched: dict[str, Rule] = {}
        for rule in applicable:
            if rule.action not in matched and self._matches(rule, subject):
                matched[rule.action] = rule
        if "deny" in matched:
            return Decision(action="deny", rule=matched["deny"].label(), subject=subject)
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
        default = _MODE_DEFAULTS[self.mode][kind]
        verb = {"allow": "allowed", "ask": "ask", "deny": "denied"}[default]
        return Decision(
            action=default,
            rule=f"mode {self.mode}: {_PLURAL[kind]} {verb} by default",
            subject=subject,
        )

    def _guard_protected(self, decision: Decision, subject: str, real: str | None) -> Decision:
        """Writes to protected paths ask in every mode, naming the file (and, through a link, what
        it reaches); a deny stays a deny."""
        why = protected_reason(subject)
        if why is None and real is not None and not real.startswith("/"):
            why = protected_reason(real)
        if why is None and self.workspace is not None:
            target = (
                real if real and real.startswith("/") else str(self.workspace / (real or subject))
            )
            why = protected_abs(target, self.data_dir)
        if why is None or STRICTNESS[decision.action] >= STRICTNESS["ask"]:
            return decision.model_copy(update={"protected": subject if why else None})
        named = f"{subject} (a link to {real})" if real else subject
        return decision.model_copy(
            update={
                "action": "ask",
                "rule": f"protected path {named}: {why}; always asks",
                "protected": subject,
            }
        )

    def similar_pattern(self, tool: str, args: BaseModel | dict[str, Any]) -> str:
        """The pattern "approve similar" records: command prefix for shell, same directory for files."""
        data = _as_dict(args)
        if TOOL_KINDS.get(tool) == "shell":
            command = str(data.get("command", ""))
            parts = [p for p in parse_command(command).parts if not p.opaque]
            if parts:
                command = shlex.join(parts[0].argv)
            return command_prefix(command) + " *"
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

    def _matches(self, rule: Rule, subject: str) -> bool:
        pat = self._compiled.get(rule.pattern)
        if pat is None:
            pat = self._compiled[rule.pattern] = PathPattern(rule.pattern)
        return pat.matches_or_within(subject)


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
