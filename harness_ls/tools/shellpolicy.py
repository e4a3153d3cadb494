"""Shell policy decided on the parsed command: every simple command, every redirection.

The whole command is `allow` only when every part is allowed and no redirection writes outside the
workspace or into a protected path; any denied part denies it; anything opaque asks (a deny rule
cannot be checked against what is only known when the command runs). Protected paths — the
harness's own settings, git metadata, env files, the data dir — always ask, in every mode.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from harness_ls.tools.shellparse import Redirect, SimpleCommand, parse_command

Action = Literal["allow", "ask", "deny"]
STRICTNESS: dict[str, int] = {"allow": 0, "ask": 1, "deny": 2}
SHELL_DEFAULTS: dict[str, Action] = {
    "read-only": "deny",
    "ask": "ask",
    "auto-edit": "ask",
    "full-auto": "allow",
}
# Inspection commands that cannot write, run other programs or reach the network. On workspace
# files (and nothing else) they are reads, decided like read_file: the acceptance test
# `grep -qx hello greet.txt` needs no approval, `cat ~/.ssh/id_rsa` or `cat .env` still asks.
SAFE_READS = frozenset(
    {"cat", "head", "tail", "wc", "ls", "grep", "egrep", "fgrep", "echo", "printf", "true",
     "false", "pwd", "test", "[", "diff", "cmp", "stat", "file", "basename", "dirname", "nl",
     "cut", "tr", "seq", "realpath", "readlink", "du", "tree", "sha256sum", "md5sum", "which"}
)  # fmt: skip
_QUIET_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
_CWD_CHANGERS = frozenset({"cd", "pushd", "popd"})


@dataclass(frozen=True)
class Rule:
    action: Action
    key: str  # tool name or kind ("read" / "write" / "shell")
    pattern: str
    source: str  # "<file> [allow]", "session" or "built-in"

    def label(self) -> str:
        return f"{self.source} {self.key} {self.pattern!r}"


class PartDecision(BaseModel):
    """One simple command of a shell call and the rule that decided it."""

    text: str
    argv: list[str]
    context: str = ""
    action: Action
    rule: str


def protected_reason(rel: str) -> str | None:
    """Why a workspace-relative path is protected from the agent, or None."""
    if ".harness" not in rel and ".env" not in rel and ".git" not in rel.lower():
        return None
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts:
        return None
    if parts[0] == ".harness":
        return "the harness settings the agent obeys"
    if any(p.lower() == ".git" for p in parts):
        return "git metadata"
    if parts[-1].startswith(".env"):
        return "an environment file that may hold secrets"
    return None


def protected_abs(real: str, data_dir: Path | None) -> str | None:
    """Why an absolute (resolved) path is protected: the data dir holds runs, trust and policy."""
    if data_dir is None:
        return None
    root = os.path.realpath(data_dir)
    if real == root or real.startswith(root + os.sep):
        return "the harness data dir (runs, trust store and your policy)"
    return None


def decide_shell(
    command: str,
    mode: str,
    rules: list[Rule],
    workspace: Path | None,
    data_dir: Path | None = None,
) -> tuple[Action, str, list[PartDecision]]:
    """(action, deciding rule, per-part decisions) for one shell command."""
    parsed = parse_command(command)
    whole = " ".join(command.split())
    cd = any(p.argv and p.argv[0] in _CWD_CHANGERS for p in parsed.parts)
    by_action = {a: _index([r for r in rules if r.action == a]) for a in ("allow", "ask", "deny")}
    out: list[PartDecision] = []
    for part in parsed.parts:
        action, rule = _decide_part(part, mode, by_action, workspace)
        if action == "allow" and part.argv and part.argv[0] not in SAFE_READS:
            why = protected_argument(part.argv[1:], workspace, data_dir)
            if why is not None:
                action, rule = "ask", why
        if action != "deny":
            for r in part.redirects:
                why = redirect_problem(r, workspace, data_dir, cd)
                if why is not None:
                    action, rule = "ask", why
                    break
        out.append(PartDecision(text=part.text, argv=list(part.argv), context=part.context,
                                action=action, rule=rule))  # fmt: skip
    if parsed.opaque:
        action = "deny" if mode == "read-only" else "ask"
        out.append(PartDecision(text=command, argv=[], action=action, rule=parsed.opaque))
        out += _deny_in_fragments(command, by_action["deny"])
    for rule in rules:  # a deny/ask rule written for the whole line still applies to it
        if rule.action != "allow" and glob_cmd(rule.pattern, whole):
            out.append(PartDecision(text=command, argv=[], action=rule.action, rule=rule.label()))
            break
    if not out:
        default = SHELL_DEFAULTS[mode]
        return default, _mode_rule(mode, default), out
    worst = max(out, key=lambda p: STRICTNESS[p.action])
    return worst.action, worst.rule, out


_FRAGMENT_SPLIT = re.compile(r"&&|\|\||\$\(|[;|&\n()`{}<>]")
_QUOTES = str.maketrans("", "", "'\"\\")


def _deny_in_fragments(command: str, deny: _Index) -> list[PartDecision]:
    """For text bash cannot parse, the parse may have lost parts: a deny rule matching any
    separator-split fragment from any word on (quotes dropped, so wrappers like `env rm` count
    too) still denies, so a syntax error hides nothing."""
    for raw in _FRAGMENT_SPLIT.split(command):
        words = raw.translate(_QUOTES).split()
        for i in range(len(words)):
            tail = [posixpath.basename(words[i]) or words[i], *words[i + 1 :]]
            for fragment in {" ".join(words[i:]), " ".join(tail)}:
                for rule in _candidates(deny, fragment):
                    if glob_cmd(rule.pattern, fragment):
                        return [PartDecision(text=raw.strip(), argv=[], action="deny",
                                             rule=rule.label())]  # fmt: skip
    return []


_Index = tuple[dict[str, list[Rule]], list[Rule], dict[int, int]]


def _index(rules: list[Rule]) -> _Index:
    """Rules by the literal first word of their pattern (`rm -rf *` -> `rm`), so a part is only
    matched against rules that can match it; patterns starting with a glob are always tried."""
    by_word: dict[str, list[Rule]] = {}
    wild: list[Rule] = []
    order = {id(r): i for i, r in enumerate(rules)}
    for rule in rules:
        words = rule.pattern.split(maxsplit=1)
        if not words or "*" in words[0] or "?" in words[0]:
            wild.append(rule)
        else:
            by_word.setdefault(words[0], []).append(rule)
    return by_word, wild, order


def _candidates(index: _Index, command: str) -> list[Rule]:
    by_word, wild, order = index
    hits = by_word.get(command.split(" ", 1)[0])
    if not hits:
        return wild
    if not wild:
        return hits
    return sorted(hits + wild, key=lambda r: order[id(r)])  # first rule in file order wins


def _decide_part(
    part: SimpleCommand, mode: str, rules: dict[str, _Index], workspace: Path | None
) -> tuple[Action, str]:
    argv = part.argv
    if not argv:  # a bare redirection (`> file`), or a part too deep to look into
        if part.opaque and mode != "read-only":
            return "ask", f"cannot be decided before it runs: {part.opaque}"
        return SHELL_DEFAULTS[mode], _mode_rule(mode, SHELL_DEFAULTS[mode])
    cmd = " ".join(argv)
    base = " ".join((posixpath.basename(argv[0]), *argv[1:])) if "/" in argv[0] else cmd
    forms = (cmd,) if base == cmd else (cmd, base)
    for action in ("deny", "ask"):
        if action == "ask":
            if mode == "read-only":
                return "deny", _mode_rule(mode, "deny")
            if part.opaque:
                return "ask", f"cannot be decided before it runs: {part.opaque}"
        for form in forms:
            for rule in _candidates(rules[action], form):
                if glob_cmd(rule.pattern, form):
                    return action, rule.label()
    if mode == "full-auto":
        return "allow", "mode full-auto: allowed unless denied"
    for rule in _candidates(rules["allow"], cmd):  # as written: `/x/pytest` is not `pytest`
        if glob_cmd(rule.pattern, cmd):
            return "allow", rule.label()
    if workspace is not None and is_safe_read(part, workspace):
        return "allow", f"built-in: {argv[0]} only reads workspace files"
    default = SHELL_DEFAULTS[mode]
    return default, _mode_rule(mode, default)


def _mode_rule(mode: str, action: str) -> str:
    if mode == "read-only":
        return "mode read-only: shell commands are denied"
    if mode == "full-auto":
        return "mode full-auto: allowed unless denied"
    verb = {"allow": "allowed", "ask": "ask", "deny": "denied"}[action]
    return f"mode {mode}: shell commands {verb} by default"


def redirect_problem(
    r: Redirect, workspace: Path | None, data_dir: Path | None, cd: bool
) -> str | None:
    """Why a redirection must be asked about (it writes outside the workspace or a protected
    file, or where is only known at run time), or None."""
    if ">" not in r.op:
        return None
    target = r.target
    if r.op.endswith("&") and (target.isdigit() or target == "-"):
        return None  # 2>&1: duplicates a descriptor, writes no file
    if target in _QUIET_TARGETS or re.fullmatch(r"/dev/fd/\d+", target):
        return None
    if any(c in target for c in "$`*?[") or target.startswith("~"):
        return f"redirect to {target!r}: where it writes is only known when it runs"
    if workspace is None:
        return None if not target.startswith("/") else f"writes outside the workspace: {target}"
    if cd and not target.startswith("/"):
        return f"redirect to {target!r} after a cd: where it writes is only known when it runs"
    root = _real(str(workspace))
    real = _resolve(root, target)
    why = protected_abs(real, data_dir)
    if why:
        return f"writes the protected path {real} ({why})"
    if real != root and not real.startswith(root + os.sep):
        return f"writes outside the workspace: {real}"
    rel = os.path.relpath(real, root)
    why = protected_reason(rel)
    return f"writes the protected file {rel} ({why})" if why else None


def protected_argument(
    args: tuple[str, ...], workspace: Path | None, data_dir: Path | None
) -> str | None:
    """An argument naming a protected path (`cp x .harness/policy.toml`, `tee .env`): a command
    that may write it asks, whatever allowed the command (lexical check, no file system)."""
    root = _real(str(workspace)) if workspace is not None else None
    data = _real(str(data_dir)) if data_dir is not None else None
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if not value or value.startswith("-"):
            continue
        if value.startswith("/"):
            norm = os.path.normpath(value)
            if data and (norm == data or norm.startswith(data + os.sep)):
                return f"names the protected path {norm} (the harness data dir)"
            if root is None or not norm.startswith(root + os.sep):
                continue
            value = norm[len(root) + 1 :]
        why = protected_reason(posixpath.normpath(value))
        if why is not None:
            return f"names the protected file {value} ({why})"
    return None


def is_safe_read(part: SimpleCommand, workspace: Path) -> bool:
    """An inspection command whose every path argument and redirection stays in the workspace."""
    argv = part.argv
    if part.opaque or not argv or argv[0] not in SAFE_READS:
        return False
    root = _real(str(workspace))
    for r in part.redirects:
        if ">" in r.op:
            if r.target not in _QUIET_TARGETS and not (r.op.endswith("&") and r.target.isdigit()):
                return False
        elif r.op == "<" and not _inside(root, r.target):
            return False
    for arg in argv[1:]:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if value.startswith("-") or not value:
            continue
        if not _inside(root, value):
            return False
    return True


def _inside(root: str, value: str) -> bool:
    if any(c in value for c in "$`~") or "\x00" in value:
        return False
    real = _resolve(root, value)
    if real != root and not real.startswith(root + os.sep):
        return False
    return (
        protected_reason(os.path.relpath(real, root)) != "an environment file that may hold secrets"
    )


@lru_cache(maxsize=64)
def _real(path: str) -> str:
    return os.path.realpath(path)


def _resolve(root: str, value: str) -> str:
    """The real path `value` names (relative to the resolved workspace `root`), stat-ing only the
    components below the workspace: a symlink there means a full realpath."""
    if ".." in value.split("/"):
        return os.path.realpath(os.path.join(root, value))
    joined = os.path.normpath(os.path.join(root, value))
    if joined != root and not joined.startswith(root + os.sep):
        return joined  # lexically outside: treated as outside, whatever links it goes through
    cur = root
    for comp in joined[len(root) + 1 :].split(os.sep) if joined != root else ():
        cur = f"{cur}{os.sep}{comp}"
        try:
            if stat.S_ISLNK(os.lstat(cur).st_mode):
                return os.path.realpath(joined)
        except OSError:
            return joined  # does not exist (yet): nothing below can be a link
    return joined


def glob_cmd(pattern: str, command: str) -> bool:
    """Glob-match a command line; `*` matches anything, and `pytest *` also matches bare `pytest`."""
    hit = _CMD_CACHE.get(pattern)
    if hit is None:
        body = " ".join(pattern.split())
        text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in body)
        if body.endswith(" *"):
            text = text[: -len(re.escape(" ") + ".*")] + "(?: .*)?"
        prefix = re.split(r"[*?]", body, maxsplit=1)[0]
        if body.endswith(" *") and "*" not in body[:-2] and "?" not in body[:-2]:
            prefix = body[:-2]  # `pytest *` also matches bare `pytest`
        hit = _CMD_CACHE[pattern] = (prefix, re.compile(text, re.DOTALL))
    prefix, rx = hit
    return command.startswith(prefix) and rx.fullmatch(command) is not None


_CMD_CACHE: dict[str, tuple[str, re.Pattern[str]]] = {}
