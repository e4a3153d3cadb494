"""The approval presentation model: what every surface shows before someone approves an action.

An approval is only consent if the person sees what they approve. `ApprovalView` is built once, in
the core, from the parsed command or the file change, and the dashboard, the CLI and the editor all
render it: the simple commands one per line with their redirections, risk flags computed from the
parse, counts, the full text with hidden characters made visible (`⟨U+202E⟩`, `⟨ESC⟩`, `⟨CR⟩`) and
padding collapsed into markers, and a title that abbreviates arguments but never drops a command
("ruff format … ; curl … | sh (2 commands)").
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any, Literal

from pydantic import BaseModel

import harness_ls.tools.cmdsplit as cmdsplit
import harness_ls.tools.risk as risk
from harness_ls.tools.protected import stat_cache
from harness_ls.tools.reveal import (
    collapse_blank_runs,
    describe,
    hidden_chars,
    is_mixed_script,
    reveal,
)

Level = Literal["danger", "warn"]
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh", "ash", "busybox"}
INTERPRETERS = {"python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php", "lua",
                "deno", "bun", "osascript", "pwsh", "powershell", "tclsh", "Rscript"}  # fmt: skip
NETWORK = {"curl", "wget", "nc", "ncat", "netcat", "ssh", "scp", "sftp", "rsync", "telnet", "ftp",
           "socat", "http", "https", "aria2c", "lftp", "tftp", "ssh-copy-id"}  # fmt: skip
PRIVILEGE = {"sudo", "su", "doas", "pkexec", "runuser"}
DELETE = {"rm", "rmdir", "unlink", "shred", "srm", "truncate"}
PERMISSIONS = {"chmod", "chown", "chgrp", "setfacl", "chattr"}
WRAPPERS = {"env", "nohup", "time", "nice", "ionice", "timeout", "command", "exec", "builtin",
            "stdbuf", "setsid", "xargs", "watch", "strace"}  # fmt: skip
WRITERS = {"tee", "cp", "mv", "install", "ln", "touch", "mkdir", "dd", "rsync", "scp"}
INLINE = {"-c", "-e", "--eval", "-r"}
LONG_CHARS = 300
SHORT_CHARS = 100  # a one-line command up to this long is its own title
_SUBCOMMAND = re.compile(r"^[a-z][a-z0-9_.:-]{0,24}$")
_SAFE_TARGETS = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"}
_WRITE_OPS = (">", ">>", ">|", "&>", "&>>", "<>")

_LABELS: dict[str, tuple[Level, str]] = {
    "hidden": ("danger", "hidden or control characters"),
    "homoglyph": ("danger", "look-alike (non-ASCII) characters in a command name"),
    "mixed_script": ("danger", "mixes writing systems in one word"),
    "pipe_to_shell": ("danger", "pipes into a shell or interpreter"),
    "privilege": ("danger", "runs as another user (sudo/su/doas)"),
    "outside": ("danger", "writes outside the workspace"),
    "evaluates": (
        "danger",
        "evaluates text as code (arithmetic, ${!x}, ${x@P}, printf -v, test -v)",
    ),
    "protected": (
        "danger",
        "reaches a protected path (.git, .harness, .env*), by a glob or link too",
    ),
    "run_options": ("warn", "options that make a tool run, write or load something else"),
    "unbounded": ("warn", "prints without end (yes, a huge seq, /dev/zero)"),
    "network": ("warn", "uses the network"),
    "delete": ("warn", "deletes files"),
    "permissions": ("warn", "changes permissions or owners"),
    "inline_code": ("warn", "runs code given inline"),
    "background": ("warn", "starts a background job"),
    "opaque": ("warn", "has parts that cannot be analysed (substitutions, subshells)"),
    "multiline": ("warn", "multi-line input"),
    "long": ("warn", "very long input"),
}


class RiskFlag(BaseModel):
    code: str
    level: Level
    label: str  # words, not just a colour
    detail: str = ""  # which command(s), already revealed


class CommandPart(BaseModel):
    """One simple command: visible text, its redirections and the operator that follows it."""

    text: str
    name: str
    redirects: list[str] = []
    joiner: str = ""  # operator after it (; && || | &) when it is a top-level command
    context: str = ""  # "" top level, else where it is nested: "$()", "subshell", "bash -c"...
    flags: list[str] = []


class ApprovalView(BaseModel):
    """Everything a surface needs to show an approval; every string is already safe to display."""

    kind: Literal["shell", "write", "mcp", "other"]
    title: str
    counts: str
    commands: int = 0
    lines: int = 0
    chars: int = 0
    parts: list[CommandPart] = []
    flags: list[RiskFlag] = []
    hidden: list[str] = []  # "U+202E RIGHT-TO-LEFT OVERRIDE ×1"
    warning: str | None = None
    body: str = ""  # the full command or diff, revealed, padding collapsed
    path: str | None = None


def _name(argv: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The command that really runs, after wrappers (`sudo env X=1 nohup curl` → curl)."""
    i = 0
    while i < len(argv):
        word = argv[i]
        base = posixpath.basename(word)
        assignment = "=" in word and not word.startswith(("=", "-"))
        if assignment or (base in WRAPPERS | PRIVILEGE and i + 1 < len(argv)):
            i += 1
            while i < len(argv) and _wrapper_option(argv[i]):
                i += 1
            continue
        return base, argv[i:]
    return (posixpath.basename(argv[0]) if argv else ""), argv


def _wrapper_option(word: str) -> bool:
    return word.startswith("-") or "=" in word or word.replace(".", "").isdigit()


def _outside(target: str, workspace: str | None) -> bool:
    if not target or target in _SAFE_TARGETS or target.startswith("&"):
        return False
    if target.startswith("~") or target.startswith("$HOME"):
        return True
    if workspace is None:
        return target.startswith("/") or target.startswith("..")
    full = posixpath.normpath(posixpath.join(workspace, target))
    ws = posixpath.normpath(workspace)
    return not (full == ws or full.startswith(ws.rstrip("/") + "/"))


def _part_flags(part: cmdsplit.Part, prev_joiner: str, workspace: str | None) -> list[str]:
    flags: list[str] = []
    argv = part.argv
    bases = {posixpath.basename(a) for a in argv[:1]}
    name, rest = _name(argv)
    all_names = bases | {name}
    if any(posixpath.basename(a) in PRIVILEGE for a in argv[:3]):
        flags.append("privilege")
    if prev_joiner in ("|", "|&") and name in SHELLS | INTERPRETERS and not _reads_file(rest):
        flags.append("pipe_to_shell")
    if name in NETWORK or (
        name == "git" and rest[1:2] and rest[1] in ("push", "clone", "fetch", "pull")
    ):
        flags.append("network")
    if name in DELETE or (name == "find" and ("-delete" in rest or _find_exec_rm(rest))):
        flags.append("delete")
    if (
        name == "git"
        and rest[1:2]
        and rest[1] in ("clean", "rm")
        or (name == "git" and "reset" in rest and "--hard" in rest)
    ):
        flags.append("delete")
    if name in PERMISSIONS:
        flags.append("permissions")
    if name in SHELLS | INTERPRETERS | {"eval", "source", "."} and (
        name in {"eval", "source", "."} or any(a in INLINE for a in rest[1:2])
    ):
        flags.append("inline_code")
    if part.background or name in {"nohup", "setsid", "disown"} or "nohup" in all_names:
        flags.append("background")
    if part.opaque:
        flags.append("evaluates" if risk.evaluates(part.reason) else "opaque")
    if risk.run_changing(argv):
        flags.append("run_options")
    if risk.names_protected(argv, workspace):
        flags.append("protected")
    if risk.unbounded(argv):
        flags.append("unbounded")
    if argv and (not argv[0].isascii() or not name.isascii()):
        flags.append("homoglyph")
    elif any(is_mixed_script(w) for w in argv):
        flags.append("mixed_script")
    targets = [t for op, t in part.redirects if op.lstrip("0123456789") in _WRITE_OPS]
    if name in WRITERS or name in DELETE or name in PERMISSIONS:
        targets += [a for a in rest[1:] if not a.startswith("-")]
    if any(_outside(t, workspace) for t in targets):
        flags.append("outside")
    return flags


def _reads_file(rest: tuple[str, ...]) -> bool:
    """`| python script.py` reads a file from the workspace, not the piped text."""
    args = [a for a in rest[1:] if not a.startswith("-")]
    return bool(args) and not any(a in INLINE or a == "-" for a in rest[1:])


def _find_exec_rm(rest: tuple[str, ...]) -> bool:
    return any(a in ("-exec", "-execdir") and i + 1 < len(rest) and posixpath.basename(rest[i + 1]) in DELETE
               for i, a in enumerate(rest))  # fmt: skip


def _short_word(word: str, cap: int = 40) -> str:
    shown = reveal(word)
    return shown if len(shown) <= cap else shown[: cap - 1] + "…"


def _short_part(part: cmdsplit.Part) -> str:
    if hidden_chars(part.text):  # every word holding a hidden character stays visible
        return _row_text(part)
    argv = part.argv
    if not argv:
        return _short_word(part.text or "(empty)")
    words = [_short_word(argv[0])]
    rest = list(argv[1:])
    if rest and _SUBCOMMAND.match(rest[0]) and posixpath.basename(argv[0]) not in PRIVILEGE:
        words.append(_short_word(rest.pop(0)))
    elif rest and posixpath.basename(argv[0]) in PRIVILEGE | WRAPPERS:
        words.append(_short_word(rest.pop(0)))
    if any(hidden_chars(w) for w in rest):
        words += [_short_word(w) for w in rest]  # an elided word must not hide a hidden character
    elif rest:
        words.append("…")
    words += [
        f"{op} {_short_word(t)}"
        for op, t in part.redirects
        if op.lstrip("0123456789") in _WRITE_OPS
    ]
    return " ".join(words)


def _non_ascii(word: str) -> str:
    return ", ".join(dict.fromkeys(describe(c) for c in word if not c.isascii()))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _hidden(text: str) -> tuple[list[str], str | None]:
    found = hidden_chars(text)
    if not found:
        return [], None
    listed = [f"{k} ×{n}" for k, n in found.items()]
    total = sum(found.values())
    warning = (
        f"This contains {_plural(total, 'hidden or control character')} "
        f"({', '.join(found)}). They are shown as ⟨…⟩ markers; what you would see in a "
        "terminal or editor may differ from what runs."
    )
    return listed, warning


def _flag_list(codes: dict[str, list[str]]) -> list[RiskFlag]:
    order = list(_LABELS)
    out = []
    for code in sorted(codes, key=order.index):
        level, label = _LABELS[code]
        out.append(RiskFlag(code=code, level=level, label=label, detail=" ; ".join(codes[code])))
    return out


def shell_view(command: str, workspace: str | os.PathLike[str] | None = None) -> ApprovalView:
    """The view of a shell command: every simple command, flags, counts and the revealed text."""
    with stat_cache():  # risk flags resolve arguments through links: stat each path once
        return _shell_view(command, workspace)


def _shell_view(command: str, workspace: str | os.PathLike[str] | None) -> ApprovalView:
    ws = os.fspath(workspace) if workspace is not None else None
    parts = [p for p in cmdsplit.parts_of(command) if p.argv or p.text.strip() or p.redirects]
    codes: dict[str, list[str]] = {}
    rows: list[CommandPart] = []
    shown_parts: list[cmdsplit.Part] = []
    prev = ""
    for p in parts:
        flags = _part_flags(p, prev if p.listed else "", ws)
        if not p.shown and p.context in SHELLS and "input" in p.reason:
            flags.append("pipe_to_shell")  # the parser saw a shell reading piped text
        if not p.shown and not rows:
            continue
        owner = p if p.shown else None
        if owner is None and "pipe_to_shell" in flags:
            flags = [f for f in flags if f != "opaque"]  # said more precisely by pipe_to_shell
        short = _short_part(p) if owner is not None else _short_part(shown_parts[-1])
        for f in flags:
            what = f"{short} ({_non_ascii(p.argv[0])})" if f == "homoglyph" else short
            if what not in codes.setdefault(f, []):
                codes[f].append(what)
        if owner is None:  # unwrapped from the row above: its flags are that row's flags
            rows[-1].flags += [f for f in flags if f not in rows[-1].flags]
            continue
        shown_parts.append(p)
        if p.listed:
            prev = p.joiner
        name, _ = _name(p.argv)
        rows.append(
            CommandPart(
                text=_row_text(p),
                name=reveal(name),
                redirects=[f"{op} {reveal(t)}" for op, t in p.redirects],
                joiner=p.joiner if p.listed else "",
                context=p.context,
                flags=flags,
            )
        )
    hidden, warning = _hidden(command)
    if hidden:
        codes["hidden"] = hidden
    lines = command.count("\n") + 1
    if lines > 1:
        codes["multiline"] = [f"{lines} lines"]
    if len(command) > LONG_CHARS:
        codes["long"] = [f"{len(command)} characters"]
    listed = [p for p in parts if p.listed] or [p for p in parts if p.shown]
    pieces = []
    for i, p in enumerate(listed):
        last = i + 1 == len(listed)
        joiner = f" {p.joiner}" if p.joiner and (not last or p.joiner == "&") else ""
        pieces.append(_short_part(p) + joiner)
    title = " ".join(pieces) or "(empty command)"
    if "\n" not in command and len(command) <= SHORT_CHARS and not hidden_chars(command):
        title = command.strip() or title  # short enough to show whole
    pipelines = sum(1 for p in listed if p.joiner not in ("|", "|&")) or len(listed)
    if pipelines > 1:
        title += f" ({pipelines} commands)"
    simple = f" ({len(rows)} simple commands)" if len(rows) != pipelines else ""
    return ApprovalView(
        kind="shell",
        title=title,
        counts=f"{_plural(pipelines, 'command')}{simple}, {_plural(lines, 'line')}, "
        f"{_plural(len(command), 'character')}",
        commands=pipelines,
        lines=lines,
        chars=len(command),
        parts=rows,
        flags=_flag_list(codes),
        hidden=hidden,
        warning=warning,
        body=collapse_blank_runs(reveal(command)),
    )


def _row_text(p: cmdsplit.Part) -> str:
    """One line per simple command: its text plus redirections the parser kept apart."""
    text = p.text or " ".join(p.argv)
    extra = [f"{op} {t}" for op, t in p.redirects if f"{op}{t}" not in text.replace(" ", "")]
    full = " ".join([text, *extra])
    return reveal(full).replace("\n", "⟨LF⟩")


def write_view(summary: str, path: str | None, diff: str | None) -> ApprovalView:
    """The view of a file change: the diff with hidden characters revealed (tabs kept)."""
    text = diff or ""
    added = sum(1 for ln in text.splitlines() if ln.startswith("+") and not ln.startswith("+++"))
    removed = sum(1 for ln in text.splitlines() if ln.startswith("-") and not ln.startswith("---"))
    hidden, warning = _hidden(text.replace("\t", " ") + (path or ""))
    codes: dict[str, list[str]] = {}
    if hidden:
        codes["hidden"] = hidden
    if "+++ /dev/null" in text:
        codes["delete"] = [reveal(path or "")]
    lines = len(text.splitlines())
    return ApprovalView(
        kind="write",
        title=reveal(summary),
        counts=f"+{added} −{removed} lines in {reveal(path or 'a file')}",
        lines=lines,
        chars=len(text),
        flags=_flag_list(codes),
        hidden=hidden,
        warning=warning,
        body=reveal(text, keep_tabs=True),
        path=reveal(path) if path else None,
    )


def view_of(preview: Any, workspace: str | os.PathLike[str] | None = None) -> ApprovalView:
    """Build the view from an ActionPreview (or its JSON form, e.g. from an older event)."""
    get = preview.get if isinstance(preview, dict) else lambda k: getattr(preview, k, None)
    command = get("command")
    if get("kind") == "mcp":  # a tool of an MCP server, called with JSON: not a shell command
        body = str(command or get("summary") or "")
        hidden, warning = _hidden(body)
        return ApprovalView(
            kind="mcp", title=reveal(str(get("summary") or "")), counts="an MCP tool call",
            chars=len(body), hidden=hidden, warning=warning, body=reveal(body),
        )  # fmt: skip
    if command is not None:
        return shell_view(str(command), workspace)
    if get("diff") is not None or get("kind") == "write":
        return write_view(str(get("summary") or ""), get("path"), get("diff"))
    return ApprovalView(
        kind="other", title=reveal(str(get("summary") or "")), counts="", path=get("path")
    )
