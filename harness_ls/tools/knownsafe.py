"""The exact list of commands that run unasked: known not to write, execute or evaluate.

In the style of Codex CLI's `is_known_safe_command`: a command is known safe only when its name is
on this list, **every** option it is given is one the list names for it (an unknown option, an
abbreviation, a combination not listed: not safe), its operands are literal paths inside the
workspace that are not secret files (globs and braces expanded to check what they match), its
output goes nowhere but the terminal, and its small languages (sed scripts, awk and jq programs,
printf formats, `seq` ranges) pass their own checks (tools/safeprograms.py). Anything else asks.
Not on the list on purpose: `git` (a repository's config runs programs), `less`/`man` (pagers run
commands), `xargs` (its arguments come from input), `cd` (paths after it mean something else),
`yes`, `sleep`, interpreters and every builtin that assigns or evaluates (`read`, `declare`…).
The table itself is tools/safespecs.py; this module applies it.
"""

from __future__ import annotations

import harness_ls.tools.safeprograms as sp
from harness_ls.tools.protected import path_problem
from harness_ls.tools.safespecs import KNOWN_SAFE, SPECS, Spec
from harness_ls.tools.shellparse import SimpleCommand
from harness_ls.tools.shellwords import WRAPPERS, wrapped_start

__all__ = ["KNOWN_SAFE", "SPECS", "Spec", "unsafe_reason"]

_QUIET = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})


def unsafe_reason(part: SimpleCommand, root: str, data_dir: str | None = None) -> str | None:
    """None when `part` is known safe in the workspace `root` (resolved); else why it is not."""
    argv = part.argv
    if part.opaque:
        return part.opaque
    if not argv or argv[0] not in KNOWN_SAFE:
        return f"{argv[0] if argv else 'a bare redirection'} is not on the known-safe list"
    if part.assigns:
        names = ", ".join(a.split("=", 1)[0] for a in part.assigns)
        return f"sets {names} for the command"
    if part.literal and not all(part.literal):
        return "an argument is only known when it runs"
    why = _redirects(part, root)
    if why:
        return why
    head = argv[0]
    if head == "[[" and part.context in (*WRAPPERS, "find -exec"):
        return "[[ is a shell keyword, not a program a wrapper can run"
    if head in ("test", "[", "[["):
        return _test(argv, root)
    if head == "find":
        return _find(argv, root)
    return _check(SPECS[head], head, list(argv[1:]), root, data_dir)


def _redirects(part: SimpleCommand, root: str) -> str | None:
    for r in part.redirects:
        if r.op.endswith("&") and (r.target.isdigit() or r.target == "-"):
            continue
        if ">" in r.op:
            if r.target not in _QUIET or r.op.startswith("<"):
                return f"writes {r.target}"
        elif r.op == "<":
            why = path_problem(root, r.target, read=True)
            if why:
                return why
        elif r.op not in ("<<", "<<<", "<<-"):
            return f"redirection {r.op}"
    return None


def _check(spec: Spec, head: str, args: list[str], root: str, data_dir: str | None) -> str | None:
    if spec.operands == "wrapper":
        return _wrapper(spec, head, args)
    if spec.operands == "text" and not spec.flags and not spec.valued and head != "printf":
        return spec.check([], args) if spec.check else None
    if head == "printf" and args and args[0] == "-v":
        return "printf -v assigns a variable"
    parsed = _options(spec, args, head)
    if isinstance(parsed, str):
        return parsed
    opts, ops = parsed
    if spec.max_operands >= 0 and len(ops) > spec.max_operands:
        return f"{head} with {len(ops)} operands (writes or means something else)"
    if spec.check and (why := spec.check(opts, ops)):
        return why
    names = {o for o, _ in opts}
    for o, v in opts:
        if o in spec.sets["path_values"] and v is not None:
            if why := path_problem(root, v, read=True):
                return why
    if spec.operands == "text":
        return None
    if spec.operands == "program":
        if not names & spec.sets["program_opts"]:
            ops = ops[1:]
        if head == "awk":
            ops = [o for o in ops if not _assignment(o)]
    recursive = bool(names & spec.sets["recursive"]) or any(
        o in ("-d", "--directories") and v == "recurse" for o, v in opts
    )
    if head == "rg" and "--files" not in names:
        recursive = True
    if (recursive or head == "rg") and not ops:
        ops = ["."]
    hidden = head != "rg" or bool(names & {"-.", "--hidden", "-u", "--no-ignore"})
    for op in ops:
        why = path_problem(root, op, read=spec.operands != "names", recursive=recursive,
                           hidden=hidden, data_dir=data_dir)  # fmt: skip
        if why:
            return why
    return None


def _assignment(word: str) -> bool:
    name = word.split("=", 1)[0]
    return "=" in word and name.isidentifier()


def _options(spec: Spec, args: list[str], head: str) -> tuple[list, list[str]] | str:
    """GNU-style options (permuted, clustered, `--x=v`, `--`) checked against `spec`."""
    opts: list[tuple[str, str | None]] = []
    ops: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            ops += args[i:]
            break
        if a == "-" or not a.startswith("-") or (head == "printf" and ops):
            ops.append(a)
            continue
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if name in spec.sets["long_valued"]:
                if not eq:
                    if i >= len(args):
                        return f"{head} {a} needs a value"
                    value, i = args[i], i + 1
                opts.append((f"--{name}", value))
            elif name in spec.sets["long_optional"] or (name in spec.sets["long"] and not eq):
                opts.append((f"--{name}", value if eq else None))
            else:
                return f"{head} {a} is not a known-safe option"
            continue
        if spec.numeric and a[1:].isdigit():
            opts.append(("-n", a[1:]))
            continue
        for j, ch in enumerate(a[1:], 1):
            if ch in spec.flags:
                opts.append((f"-{ch}", None))
            elif ch in spec.valued:
                value = a[j + 1 :]
                if not value:
                    if i >= len(args):
                        return f"{head} -{ch} needs a value"
                    value, i = args[i], i + 1
                opts.append((f"-{ch}", value))
                break
            else:
                return f"{head} -{ch} is not a known-safe option"
    return opts, ops


def _wrapper(spec: Spec, head: str, args: list[str]) -> str | None:
    """A wrapper's own options; the command it runs is a part of its own, checked on its own."""
    argv = (head, *args)
    start = wrapped_start(head, argv) if head in WRAPPERS else 1
    own = list(argv[1:start])
    if head == "command" and any(a in ("-v", "-V") for a in own):
        return None
    if head == "env" and any("=" in a and not a.startswith("-") for a in own):
        return "env sets variables for the command"
    if head == "timeout" and own and not own[-1].startswith("-"):
        own = own[:-1]  # the duration
    if own and own[-1] == "--":
        own = own[:-1]
    if head == "command":
        spec = Spec(flags="p", operands="wrapper")
    parsed = _options(spec, own, head)
    if isinstance(parsed, str):
        return parsed
    return None if not parsed[1] else f"{head}: unexpected {parsed[1][0]!r}"


_TEST_UNARY = frozenset(
    "-a -b -c -d -e -f -g -h -k -p -r -s -t -u -w -x -G -L -N -O -S -z -n".split()
)
_TEST_BINARY = frozenset("= == != < > =~ -nt -ot -ef -eq -ne -lt -le -gt -ge -a -o".split())


def _test(argv: tuple[str, ...], root: str) -> str | None:
    """`test`/`[`/`[[` with file and string tests only (`-v`, `-R` and `-o OPTION` name shell
    state; `[[ -eq ]]` is arithmetic and marked opaque before this)."""
    args = list(argv[1:])
    close = {"[": "]", "[[": "]]"}.get(argv[0])
    if close:
        if not args or args[-1] != close:
            return f"{argv[0]} without {close}"
        args = args[:-1]
    prev = ""
    for a in args:
        if a in ("-v", "-R") and prev != "=~":
            return f"{argv[0]} {a} looks up a variable by name"
        if a in _TEST_UNARY or a in _TEST_BINARY or a in ("!", "(", ")", "&&", "||"):
            prev = a
            continue
        if prev != "=~" and a and (why := path_problem(root, a, read=False)):
            return why
        prev = a
    return None


_FIND_OPTS0 = frozenset("-H -L -P".split())
_FIND_ARG0 = frozenset("""-empty -executable -readable -writable -nouser -nogroup -prune -print
-print0 -ls -true -false -quit -depth -d -mount -xdev -noleaf -ignore_readdir_race
-noignore_readdir_race -daystart -follow -not -a -and -o -or ! ( ) ,""".split())  # fmt: skip
_FIND_ARG1 = frozenset("""-name -iname -path -ipath -wholename -iwholename -regex -iregex -lname
-ilname -type -xtype -size -perm -user -group -uid -gid -links -inum -mtime -mmin -atime -amin
-ctime -cmin -used -maxdepth -mindepth -regextype -printf -fstype -context""".split())  # fmt: skip
_FIND_FILE = frozenset({"-newer", "-anewer", "-cnewer", "-samefile"})


def _find(argv: tuple[str, ...], root: str) -> str | None:
    """`find` with tests and printing actions only (no -exec/-ok/-delete/-fprint*/-fls)."""
    i = 1
    while i < len(argv) and argv[i] in _FIND_OPTS0:
        i += 1
    starts = 0
    while i < len(argv) and not argv[i].startswith("-") and argv[i] not in ("!", "(", ")", ","):
        if why := path_problem(root, argv[i], read=False):
            return why
        i, starts = i + 1, starts + 1
    while i < len(argv):
        a = argv[i]
        if a in _FIND_ARG0:
            i += 1
        elif a in _FIND_ARG1 or (a.startswith("-newer") and len(a) == 8):
            if a == "-printf" and i + 1 < len(argv) and sp.format_problem(argv[i + 1]):
                return "find -printf with a huge width"
            i += 2
        elif a in _FIND_FILE:
            if i + 1 >= len(argv) or (why := path_problem(root, argv[i + 1], read=False)):
                return why or f"find {a} needs a file"
            i += 2
        else:
            return f"find {a} is not on the known-safe list (it may run, delete or write)"
    return None if i == len(argv) else "find expression cut short"
