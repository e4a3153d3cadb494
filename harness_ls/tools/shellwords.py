"""Word-level shell rules for shellparse: quote removal, and where a wrapper's command starts.

`env -i A=1 -u B rm x`, `timeout -s KILL 5 rm x`, `xargs -n1 rm`: the wrapped command is a part of
its own, so deny rules see `rm`. Each wrapper lists the options that take a value, so the value is
not mistaken for the command.
"""

from __future__ import annotations

# wrapper -> options that take a value (the value is skipped with the option)
WRAPPERS: dict[str, frozenset[str]] = {
    "env": frozenset({"-u", "--unset", "-C", "--chdir"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "exec": frozenset({"-a"}),
    "nohup": frozenset(),
    "setsid": frozenset(),
    "time": frozenset(),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "--class", "--classdata"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "timeout": frozenset({"-s", "--signal", "-k", "--kill-after"}),
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "--user", "--group"}),
    "doas": frozenset({"-u", "-C"}),
    "xargs": frozenset(
        {
            "-I",
            "-n",
            "-P",
            "-L",
            "-d",
            "-a",
            "-E",
            "-s",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
            "--max-lines",
        }
    ),  # fmt: skip
    "watch": frozenset({"-n", "--interval", "-d"}),
    "flock": frozenset({"-w", "--timeout", "-E"}),
    "chronic": frozenset(),
    "busybox": frozenset(),
    "coproc": frozenset(),
    "unbuffer": frozenset(),
    "strace": frozenset({"-o", "-e", "-p", "-s"}),
    "ltrace": frozenset({"-o", "-e", "-p", "-s"}),
}
_POSITIONAL_FIRST = {"timeout": 1, "flock": 1}  # wrappers taking a positional before the command


def wrapped_start(head: str, argv: tuple[str, ...]) -> int:
    """Index of the wrapped command in a wrapper's argv (len(argv) when there is none)."""
    takes_value = WRAPPERS[head]
    positional = _POSITIONAL_FIRST.get(head, 0)
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if a.startswith("-") and len(a) > 1:
            i += 2 if (a in takes_value and "=" not in a) else 1
            continue
        if head == "env" and "=" in a:
            i += 1
            continue
        if head in ("sudo", "doas") and "=" in a:
            i += 1
            continue
        if positional:
            positional -= 1
            i += 1
            continue
        break
    return i


def unescape(text: str, *, inside_quotes: bool) -> str:
    """Backslash removal as bash does it (inside double quotes only before $ ` " \\ newline)."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "\n":
                i += 2
                continue
            if not inside_quotes or nxt in '$`"\\':
                out.append(nxt)
                i += 2
                continue
        out.append(c)
        i += 1
    return "".join(out)


# Variables that change what a command runs or where it looks for code: set for a command (or
# exported), they make it opaque — a rule about the command's words cannot see them.
RISKY_VARS = frozenset(
    {"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV", "ENV", "IFS", "SHELLOPTS",
     "BASHOPTS", "PROMPT_COMMAND", "PS4", "GLOBIGNORE", "CDPATH", "PAGER", "MANPAGER", "LESSOPEN",
     "LESSCLOSE", "EDITOR", "VISUAL", "BROWSER", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
     "PYTHONUSERBASE", "NODE_OPTIONS", "NODE_PATH", "PERL5OPT", "PERL5LIB", "RUBYOPT", "RUBYLIB",
     "MAKEFLAGS", "MFLAGS", "GOFLAGS", "RUSTFLAGS", "RUSTC_WRAPPER", "RUSTC", "CARGO_HOME",
     "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "SSH_ASKPASS",
     "SUDO_ASKPASS", "TERMINFO", "HISTFILE"}
)  # fmt: skip
_RISKY_PREFIXES = ("GIT_", "LD_", "DYLD_", "BASH_FUNC_", "npm_config_", "NPM_CONFIG_", "CARGO_")
_HARMLESS_GIT = frozenset(
    {"GIT_TERMINAL_PROMPT", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
     "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE", "GIT_MERGE_AUTOEDIT",
     "GIT_OPTIONAL_LOCKS", "GIT_FLUSH"}
)  # fmt: skip


def risky_var(name: str) -> bool:
    """Whether setting `name` can change which program or code a command runs."""
    if name in RISKY_VARS:
        return True
    return name.startswith(_RISKY_PREFIXES) and name not in _HARMLESS_GIT
