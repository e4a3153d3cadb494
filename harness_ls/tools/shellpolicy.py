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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, TypeAdapter

from harness_ls.tools.knownsafe import KNOWN_SAFE, unsafe_reason
from harness_ls.tools.protected import (
    SECRET_READ,
    implicit_protected,
    path_problem,
    protected_abs,
    protected_operand,
    protected_reason,
    real_path,
    rel_to,
    resolve_in,
    stat_cache,
)
from harness_ls.tools.runopts import uncovered
from harness_ls.tools.shellparse import ParsedCommand, Redirect, SimpleCommand, parse_command

__all__ = ["KNOWN_SAFE", "SAFE_READS", "protected_abs", "protected_reason"]

Action = Literal["allow", "ask", "deny"]
STRICTNESS: dict[str, int] = {"allow": 0, "ask": 1, "deny": 2}
SHELL_DEFAULTS: dict[str, Action] = {
    "read-only": "deny",
    "ask": "ask",
    "auto-edit": "ask",
    "full-auto": "allow",
}
SAFE_READS = KNOWN_SAFE  # the exact list lives in tools/knownsafe.py
_QUIET_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
_CWD_CHANGERS = frozenset({"cd", "pushd", "popd"})
_DEV_FD = re.compile(r"/dev/fd/\d+")


@dataclass(frozen=True)
class Rule:
    action: Action
    key: str  # tool name or kind ("read" / "write" / "shell")
    pattern: str
    source: str  # "<file> [allow]", "session" or "built-in"

    def label(self) -> str:
        # made once, kept beside the fields (eq, hash and repr ignore it): parts repeat rules
        got = self.__dict__.get("_label")
        if got is None:
            got = self.__dict__["_label"] = f"{self.source} {self.key} {self.pattern!r}"
        return got


class PartDecision(BaseModel):
    """One simple command of a shell call and the rule that decided it."""

    text: str
    argv: list[str]
    context: str = ""
    action: Action
    rule: str


def decide_shell(
    command: str,
    mode: str,
    rules: list[Rule],
    workspace: Path | None,
    data_dir: Path | None = None,
) -> tuple[Action, str, list[PartDecision]]:
    """(action, deciding rule, per-part decisions) for one shell command. Fails closed: a
    command the checks cannot handle asks (denied in read-only), naming why."""
    try:
        with stat_cache():
            return _decide_shell(command, mode, rules, workspace, data_dir)
    except (OSError, ValueError, RecursionError) as exc:
        action: Action = "deny" if mode == "read-only" else "ask"
        return action, f"cannot be decided before it runs ({type(exc).__name__}: {exc})", []


def _decide_shell(
    command: str, mode: str, rules: list[Rule], workspace: Path | None, data_dir: Path | None
) -> tuple[Action, str, list[PartDecision]]:
    parsed = parse_command(command)
    whole = " ".join(command.split())
    cd = False
    for p in parsed.parts:
        if p.argv and p.argv[0] in _CWD_CHANGERS:
            cd = True
            break
    by_action = _rules_index(rules)
    ctx = _Context(parsed, mode, by_action, real_path(str(workspace)) if workspace else None,
                   str(data_dir) if data_dir is not None else None, cd)  # fmt: skip
    rows: list[dict[str, object]] = []  # validated in one call at the end (_PARTS)
    for part in parsed.parts:
        action, rule = _decide_part(part, ctx)
        if action == "allow" and not rule.startswith(_BUILTIN):
            why = implicit_protected(part.argv) or _protected_args(part, ctx)
            if why is not None:
                action, rule = "ask", why
        if action != "deny":
            for r in part.redirects:
                why = redirect_problem(r, ctx.root, data_dir, cd)
                if why is not None:
                    action, rule = "ask", why
                    break
        rows.append({"text": part.text, "argv": part.argv, "context": part.context,
                     "action": action, "rule": rule})  # fmt: skip
    if parsed.opaque:
        action = "deny" if mode == "read-only" else "ask"
        rows.append({"text": command, "argv": [], "action": action, "rule": parsed.opaque})
        rows += _deny_in_fragments(command, by_action["deny"])
    for rule in rules:  # a deny/ask rule written for the whole line still applies to it
        if rule.action != "allow" and glob_cmd(rule.pattern, whole):
            rows.append({"text": command, "argv": [], "action": rule.action, "rule": rule.label()})
            break
    out = _PARTS.validate_python(rows)
    if not out:
        default = SHELL_DEFAULTS[mode]
        return default, _mode_rule(mode, default), out
    worst, level = out[0], STRICTNESS[out[0].action]  # the first strictest part, as max() gives
    for p in out:
        if level == 2:
            break  # a deny: nothing is stricter
        if STRICTNESS[p.action] > level:
            worst, level = p, STRICTNESS[p.action]
    return worst.action, worst.rule, out


_BUILTIN = "built-in: "
# every part of a decision validated in one call: a PartDecision(...) per part costs ~2 us
_PARTS: TypeAdapter[list[PartDecision]] = TypeAdapter(list[PartDecision])


@dataclass(frozen=True)
class _Context:
    parsed: ParsedCommand
    mode: str
    rules: dict[str, _Index]
    root: str | None  # the resolved workspace
    data_dir: str | None
    cd: bool  # a part changes directory: relative paths after it mean something else


_FRAGMENT_SPLIT = re.compile(r"&&|\|\||\$\(|[;|&\n()`{}<>]")
_QUOTES = str.maketrans("", "", "'\"\\")


def _deny_in_fragments(command: str, deny: _Index) -> list[dict[str, object]]:
    """For text bash cannot parse, the parse may have lost parts: a deny rule matching any
    separator-split fragment from any word on (quotes dropped, so wrappers like `env rm` count
    too) still denies, so a syntax error hides nothing."""
    for raw in _FRAGMENT_SPLIT.split(command):
        words = raw.translate(_QUOTES).split()
        for i in range(len(words)):
            tail = [posixpath.basename(words[i]) or words[i], *words[i + 1 :]]
            as_written, base = " ".join(words[i:]), " ".join(tail)
            # as written, then by basename: a tuple (a set's order, so the rule named, varies)
            for fragment in (as_written,) if base == as_written else (as_written, base):
                for rule in _candidates(deny, fragment):
                    if glob_cmd(rule.pattern, fragment):
                        return [{"text": raw.strip(), "argv": [], "action": "deny",
                                 "rule": rule.label()}]  # fmt: skip
    return []


_Index = tuple[dict[str, list[Rule]], list[Rule], dict[int, int]]


_INDEXES: dict[tuple[int, ...], tuple[tuple[Rule, ...], dict[str, _Index]]] = {}


def _rules_index(rules: list[Rule]) -> dict[str, _Index]:
    """_by_action, looked up by the rules' identities: hashing each rule (a dataclass hash in
    Python) on every call costs more than the rest of a small decision. The entry keeps the
    rules alive, so an id in a key cannot be reused by another object while it is cached."""
    key = tuple(map(id, rules))
    hit = _INDEXES.get(key)
    if hit is None:
        if len(_INDEXES) >= 64:
            _INDEXES.clear()
        frozen = tuple(rules)
        hit = _INDEXES[key] = (frozen, _by_action(frozen))
    return hit[1]


@lru_cache(maxsize=64)
def _by_action(rules: tuple[Rule, ...]) -> dict[str, _Index]:
    """The rules indexed per action, once per rule set (rules are frozen, so this is pure)."""
    return {a: _index([r for r in rules if r.action == a]) for a in ("allow", "ask", "deny")}


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
    if not by_word:
        return wild
    hits = by_word.get(command.partition(" ")[0])
    if not hits:
        return wild
    if not wild:
        return hits
    return sorted(hits + wild, key=lambda r: order[id(r)])  # first rule in file order wins


def _first_match(index: _Index, forms: tuple[str, ...]) -> Rule | None:
    """The first rule of `index` whose pattern matches one of the forms, in form order."""
    by_word, wild, _ = index
    if not by_word and not wild:
        return None  # no rule of this action at all
    for form in forms:
        # _candidates, with its common answers inline: one rule list, or none
        hits = by_word.get(form.partition(" ")[0]) if by_word else None
        rules = wild if not hits else hits if not wild else _candidates(index, form)
        for rule in rules:
            if glob_cmd(rule.pattern, form):
                return rule
    return None


def _decide_part(part: SimpleCommand, ctx: _Context) -> tuple[Action, str]:
    argv, mode, rules = part.argv, ctx.mode, ctx.rules
    if not argv:  # a bare redirection (`> file`, `$(< file)`), or a part too deep to look into
        if part.opaque and mode != "read-only":
            return "ask", f"cannot be decided before it runs: {part.opaque}"
        return SHELL_DEFAULTS[mode], _mode_rule(mode, SHELL_DEFAULTS[mode])
    cmd = " ".join(argv)
    base = " ".join((posixpath.basename(argv[0]), *argv[1:])) if "/" in argv[0] else cmd
    forms = (cmd,) if base == cmd else (cmd, base)
    if part.assigns:
        forms += (" ".join((*part.assigns, cmd)),)
    if hit := _first_match(rules["deny"], forms):
        return "deny", hit.label()
    if mode == "read-only":
        return "deny", _mode_rule(mode, "deny")
    if part.opaque:
        return "ask", f"cannot be decided before it runs: {part.opaque}"
    if hit := _first_match(rules["ask"], forms):
        return "ask", hit.label()
    if mode == "full-auto":
        return "allow", "mode full-auto: allowed unless denied"
    gap = None
    texts = (" ".join((*part.assigns, cmd)), cmd) if part.assigns else (cmd,)
    for text in texts:  # as written: `/x/pytest` is not `pytest`
        for rule in _candidates(rules["allow"], text):
            if glob_cmd(rule.pattern, text):
                why = uncovered(rule.pattern, argv, part.assigns, ctx.root)
                if why is None:
                    return "allow", rule.label()
                gap = gap or f"{rule.label()} does not cover {why}"
    why_not = None
    if ctx.root is not None and argv[0] in KNOWN_SAFE:
        why_not = unsafe_reason(part, ctx.root, ctx.data_dir)
        if why_not is None:
            why_not = "it changes directory first" if ctx.cd else ctx.parsed.not_plain
        if why_not is None:
            return "allow", f"{_BUILTIN}{argv[0]} only reads workspace files (known safe)"
    default = SHELL_DEFAULTS[mode]
    if gap and default == "ask":
        return default, gap
    rule = _mode_rule(mode, default)
    return default, f"{rule} (not known safe: {why_not})" if why_not else rule


def _mode_rule(mode: str, action: str) -> str:
    got = _MODE_RULES.get((mode, action))
    if got is None:  # made once per (mode, action): a decision names one for many parts
        got = _MODE_RULES[(mode, action)] = _make_mode_rule(mode, action)
    return got


def _make_mode_rule(mode: str, action: str) -> str:
    if mode == "read-only":
        return "mode read-only: shell commands are denied"
    if mode == "full-auto":
        return "mode full-auto: allowed unless denied"
    verb = {"allow": "allowed", "ask": "ask", "deny": "denied"}[action]
    return f"mode {mode}: shell commands {verb} by default"


_MODE_RULES: dict[tuple[str, str], str] = {}


def redirect_problem(r: Redirect, root: str | None, data_dir: Path | None, cd: bool) -> str | None:
    """Why a redirection must be asked about, whatever the command: it writes outside the
    workspace (`root`, resolved) or a protected file, or where is only known at run time; or it
    reads a secret file (`$(< .env)`: bash reads it, not the program). None otherwise."""
    if ">" not in r.op:
        return _secret_read(r, root)
    target = r.target
    if r.op.endswith("&") and (target.isdigit() or target == "-"):
        return None  # 2>&1: duplicates a descriptor, writes no file
    if target in _QUIET_TARGETS or _DEV_FD.fullmatch(target):
        return None
    if any(c in target for c in "$`*?[") or target.startswith("~"):
        return f"redirect to {target!r}: where it writes is only known when it runs"
    if root is None:
        return None if not target.startswith("/") else f"writes outside the workspace: {target}"
    if cd and not target.startswith("/"):
        return f"redirect to {target!r} after a cd: where it writes is only known when it runs"
    real = resolve_in(root, target)
    why = protected_abs(real, data_dir)
    if why:
        return f"writes the protected path {real} ({why})"
    if real != root and not real.startswith(root + os.sep):
        return f"writes outside the workspace: {real}"
    rel = rel_to(root, real)
    why = protected_reason(rel)
    return f"writes the protected file {rel} ({why})" if why else None


def _secret_read(r: Redirect, root: str | None) -> str | None:
    """An input redirection from a secret file (`$(< .env)`, `x < id_rsa`)."""
    if root is None or "<" not in r.op or r.op in ("<<", "<<<", "<<-") or r.op.endswith("&"):
        return None
    why = path_problem(root, r.target, read=True)
    return f"redirect from {why}" if why and SECRET_READ in why else None


def _protected_args(part: SimpleCommand, ctx: _Context) -> str | None:
    """An allowed command that is not a known-safe read and names a protected path asks; a
    known-safe reader that would read a secret file (`grep -r x .` over `.env.local`) asks too."""
    if not part.argv:
        return None
    if ctx.root is not None and part.argv[0] in KNOWN_SAFE:
        why = unsafe_reason(part, ctx.root, ctx.data_dir)
        if why is None:
            return None  # reads only: `cat .git/config` does not write it
        if SECRET_READ in why:
            return f"{part.argv[0]}: {why}"
    return protected_argument(part.argv[1:], ctx.root, ctx.data_dir)


def protected_argument(
    args: tuple[str, ...], workspace: Path | str | None, data_dir: Path | str | None
) -> str | None:
    """An argument naming a protected path (`cp x .harness/policy.toml`, `tee .env`,
    `cp x .gi?/config`, `h/policy.toml` with `h -> .harness`): a command that may write it asks,
    whatever allowed the command. Symlinks are resolved, globs and braces expanded."""
    root = real_path(str(workspace)) if workspace is not None else None
    data = str(data_dir) if data_dir is not None else None
    for arg in args:
        value = arg
        if arg.startswith("-"):
            if "=" in arg:
                value = arg.split("=", 1)[1]
            elif not arg.startswith("--") and len(arg) > 2:
                value = arg[2:]  # `-o.git/config`: a value attached to a short option
            else:
                continue
        if value and (why := protected_operand(root, value, data)):
            return why
    return None


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
