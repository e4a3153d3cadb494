"""Risk flags drawn from the exact lists, for the approval view (tools/consent.py).

Presentation only — the decision is made in tools/shellpolicy.py — but worded from the same
tables, so what an approval warns about is what the policy refused to pre-approve: text bash
evaluates as code, options that make a tool run something else, arguments that reach a protected
path (through a glob or a link too), and commands that print without end.
"""

from __future__ import annotations

import os
import posixpath

from harness_ls.tools.knownsafe import KNOWN_SAFE
from harness_ls.tools.protected import protected_operand, real_path
from harness_ls.tools.runopts import classify, runner_for
from harness_ls.tools.safeprograms import seq_problem

# options of known-safe or common commands that run, write or evaluate (shown, not decided)
RUNS_OTHERS: dict[str, frozenset[str]] = {
    "find": frozenset("-exec -execdir -ok -okdir -fprint -fprint0 -fprintf -fls".split()),
    "rg": frozenset("--pre --pre-glob --hostname-bin -z --search-zip".split()),
    "sed": frozenset("-i --in-place -f --file".split()),
    "sort": frozenset("-o --output --compress-program".split()),
    "tree": frozenset({"-o"}),
    "file": frozenset({"-C", "-m", "--magic-file", "--compile"}),
    "git": frozenset(
        "-c --config-env --exec-path --ext-diff --textconv --upload-pack "
        "--receive-pack --output".split()
    ),  # fmt: skip
    "printf": frozenset({"-v"}),
    "test": frozenset({"-v"}),
    "[": frozenset({"-v"}),
    "tail": frozenset("-f -F --follow".split()),
}
_GENERATORS = frozenset({"yes"})
_ENDLESS_FILES = frozenset({"/dev/zero", "/dev/urandom", "/dev/random", "/dev/full"})


def evaluates(reason: str) -> bool:
    """The parser's reason says bash evaluates text as code (shelleval)."""
    return "evaluates" in reason or "re-points" in reason or "alias" in reason


def run_changing(argv: tuple[str, ...]) -> str | None:
    """The first option that makes a command run, write or evaluate something else."""
    if not argv:
        return None
    head = posixpath.basename(argv[0])
    risky = RUNS_OTHERS.get(head, frozenset())
    for a in argv[1:]:
        if a.split("=", 1)[0] in risky:
            return a.split("=", 1)[0]
    n, table = runner_for(argv)
    if table is not None:
        for _, kind, name in classify(argv, n, table):
            if kind == "option-unknown":
                return name
    return None


def names_protected(argv: tuple[str, ...], workspace: str | None) -> str | None:
    """A protected path an argument reaches (a glob or a link included), for commands that are not
    plain reads."""
    if not argv or (argv[0] in KNOWN_SAFE and run_changing(argv) is None):
        return None
    root = real_path(workspace) if workspace else None
    for a in argv[1:]:
        value = a.split("=", 1)[1] if a.startswith("-") and "=" in a else a
        if value.startswith("-") or not value:
            continue
        if why := protected_operand(root, value, None):
            return why
    return None


def unbounded(argv: tuple[str, ...]) -> bool:
    """Prints without end: `yes`, `seq` past its bound, reading /dev/zero, `tail -f`."""
    if not argv:
        return False
    head = posixpath.basename(argv[0])
    if head in _GENERATORS:
        return True
    if head == "seq":
        nums = [a for a in argv[1:] if not a.startswith("-") or a[1:2].isdigit()]
        return (
            bool(nums)
            and seq_problem(nums) is not None
            and seq_problem(nums) != "seq takes numbers"
        )
    if head == "tail" and any(a in ("-f", "-F", "--follow") for a in argv[1:]):
        return True
    return any(os.path.normpath(a) in _ENDLESS_FILES for a in argv[1:])
