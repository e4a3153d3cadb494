"""What a `*` in a shell allow rule covers: operands, and only options known not to change what runs.

`make test *` is meant to run the test target, not `make test --eval='x:=$(shell …)'`,
`-f other.mk`, `-C /elsewhere` or `SHELL=…`. After a rule's pattern matches, every word a wildcard
consumed is checked:

- an option of a tool in `RUNNERS` must be on that tool's list of options that do not change what
  runs (an allowlist: an unknown option, an abbreviation or a combination not listed is not
  covered); a value given to such an option is fine;
- an option of any other tool is not covered at all: write it in the pattern (`ruff check --fix *`);
- an operand is covered unless it names a path outside the workspace, or (make) sets a variable
  or names another target than the one the rule names (`make test *`: other recipes run;
  `make *` allows any target);
- after `--`, a runner passes words to another program (npm, tox, go `-args`): options there are
  not covered either, unless the runner lists them (cargo test's libtest options).

Assignments before the command (`CI=1 pytest`) are part of what a pattern must match. A pattern
whose first word is itself a wildcard (`*`) allows any program, so any word. Write the option in the
pattern to allow it (`pytest -p xdist *`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness_ls.tools.protected import inside, is_plain_path, operand_paths, resolve_in


@dataclass(frozen=True)
class Runner:
    flags: str = ""  # short options without a value
    valued: str = ""  # short options with a value
    long: str = ""  # long options without a value (names without dashes)
    long_valued: str = ""
    long_optional: str = ""
    style: str = "gnu"  # "go": single-dash long options (`-run X`, `-v=true`)
    numeric: bool = False  # `git log -5`
    assignments_change: bool = False  # make: `NAME=value` operands override the Makefile
    operands_run: bool = False  # make: an operand is another target, i.e. other recipes run
    after: Runner | None = None  # the options of what gets the words after `--` (None: unknown)
    sets: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("long", "long_valued", "long_optional"):
            self.sets[name] = frozenset(getattr(self, name).split())


_PYTEST = Runner(
    flags="qvxslhV", valued="kmrn",
    long="verbose quiet exitfirst showlocals no-showlocals lf last-failed ff failed-first nf "
    "new-first sw stepwise stepwise-skip sw-skip co collect-only strict-markers strict runxfail "
    "disable-warnings disable-pytest-warnings no-header no-summary setup-show setup-only "
    "setup-plan fixtures fixtures-per-test markers version help cache-show cache-clear "
    "full-trace doctest-modules no-cov",
    long_valued="tb maxfail durations durations-min color code-highlight deselect ignore "
    "ignore-glob capture import-mode timeout count numprocesses dist maxprocesses log-level "
    "log-cli-level verbosity last-failed-no-failures lfnf cov cov-fail-under",
    after=Runner(),  # pytest -- a b: file names (operands)
)  # fmt: skip
_MAKE = Runner(
    flags="ksiBnqrRwS", valued="jl",
    long="keep-going silent quiet ignore-errors always-make just-print dry-run recon question "
    "no-builtin-rules no-builtin-variables print-directory no-print-directory no-keep-going "
    "no-silent warn-undefined-variables",
    long_optional="jobs load-average max-load output-sync debug", assignments_change=True,
    operands_run=True,
)  # fmt: skip
_GO_TEST = Runner(
    style="go",
    long="v short race cover benchmem failfast json a x n work trimpath c fullpath",
    long_valued="run skip count timeout bench benchtime coverpkg covermode coverprofile "
    "parallel cpu list shuffle p tags mod vet o",
)
_CARGO_TEST = Runner(
    flags="qvr", valued="pjF",
    long="quiet verbose release lib bins tests benches examples all-targets doc no-run "
    "no-fail-fast all-features no-default-features workspace all frozen locked offline "
    "future-incompat-report ignore-rust-version",
    long_valued="package exclude jobs features test bin example bench profile target color "
    "message-format",
    after=Runner(flags="q", long="nocapture ignored include-ignored exact quiet show-output list",
                 long_valued="test-threads skip format color"),
)  # fmt: skip
_NPM = Runner(flags="sq", valued="w", long="silent quiet if-present workspaces "
              "include-workspace-root ignore-scripts", long_valued="workspace")  # fmt: skip
_TOX = Runner(flags="qvr", valued="ep", long="recreate quiet verbose parallel-live",
              long_valued="parallel")  # fmt: skip
_RUFF = Runner(
    flags="qsen",
    long="fix no-fix unsafe-fixes no-unsafe-fixes show-fixes diff statistics no-cache quiet "
    "verbose silent exit-zero exit-non-zero-on-fix preview no-preview isolated check",
    long_valued="select ignore extend-select extend-ignore output-format line-length "
    "target-version exclude extend-exclude fixable unfixable",
)  # fmt: skip
_MYPY = Runner(
    valued="pm",
    long="strict ignore-missing-imports show-error-codes hide-error-codes pretty "
    "no-incremental check-untyped-defs no-error-summary show-column-numbers warn-unused-ignores "
    "disallow-untyped-defs no-implicit-optional warn-return-any show-traceback",
    long_valued="python-version follow-imports package module exclude",
)  # fmt: skip
_GIT_DIFF = Runner(
    flags="pusRzwbaMCBDW", valued="UGS",
    long="stat numstat shortstat name-only name-status raw patch no-patch cached staged "
    "no-color ignore-space-change ignore-all-space ignore-blank-lines minimal patience "
    "histogram full-index binary summary exit-code quiet no-ext-diff no-textconv merge-base "
    "text find-renames find-copies compact-summary",
    long_valued="unified diff-filter stat-width src-prefix dst-prefix line-prefix",
    long_optional="color word-diff abbrev relative ignore-submodules dirstat",
    after=Runner(),
)  # fmt: skip
_GIT_LOG = Runner(
    flags="pusz", valued="n", numeric=True,
    long="oneline graph stat numstat shortstat name-only name-status patch no-patch all "
    "reverse first-parent merges no-merges follow abbrev-commit no-abbrev-commit no-color "
    "no-ext-diff no-textconv cherry-pick left-right topo-order date-order full-history "
    "relative-date simplify-by-decoration source",
    long_valued="format date since until after before author committer grep max-count skip "
    "diff-filter",
    long_optional="decorate pretty color branches tags remotes abbrev", after=Runner(),
)  # fmt: skip
_GIT_STATUS = Runner(
    flags="sbvz", long="short branch long verbose no-column ahead-behind no-ahead-behind "
    "renames no-renames show-stash",
    long_optional="porcelain untracked-files ignored ignore-submodules column find-renames",
    after=Runner(),
)  # fmt: skip
RUNNERS: dict[tuple[str, ...], Runner] = {
    ("pytest",): _PYTEST, ("py.test",): _PYTEST, ("python", "-m", "pytest"): _PYTEST,
    ("python3", "-m", "pytest"): _PYTEST, ("make",): _MAKE, ("gmake",): _MAKE,
    ("go", "test"): _GO_TEST, ("cargo", "test"): _CARGO_TEST, ("npm", "test"): _NPM,
    ("npm", "run"): _NPM, ("npm", "run-script"): _NPM, ("pnpm", "test"): _NPM,
    ("yarn", "test"): _NPM, ("tox",): _TOX, ("ruff", "check"): _RUFF, ("ruff", "format"): _RUFF,
    ("ruff",): _RUFF, ("mypy",): _MYPY, ("git", "diff"): _GIT_DIFF, ("git", "log"): _GIT_LOG,
    ("git", "show"): _GIT_LOG, ("git", "status"): _GIT_STATUS,
}  # fmt: skip
_ASSIGN = re.compile(r"[A-Za-z_.][A-Za-z0-9_.-]*\s*(?:[:!?+]|::|:::)?=")
_PATTERNS: dict[str, tuple[re.Pattern[str], bool, list[str] | None]] = {}


def runner_for(argv: tuple[str, ...]) -> tuple[int, Runner | None]:
    """(words naming the tool, its table) for the longest known prefix of `argv`."""
    for n in (3, 2, 1):
        table = RUNNERS.get(tuple(argv[:n]))
        if table is not None:
            return n, table
    return 1, None


def wild_words(pattern: str, words: list[str]) -> set[int] | None:
    """Indexes of the words a pattern's wildcards matched (None: no match; {-1}: any program)."""
    hit = _PATTERNS.get(pattern)
    if hit is None:
        hit = _PATTERNS[pattern] = _compile(pattern)
    rx, any_program, prefix = hit
    if prefix is not None:  # `pytest *`: literal words, then any words
        n = len(prefix)
        if words[:n] != prefix:
            return None
        return set(range(n, len(words)))
    text = " ".join(words)
    m = rx.fullmatch(text)
    if m is None:
        return None
    if any_program:
        return {-1}
    spans = [m.span(g) for g in range(1, (m.lastindex or 0) + 1) if m.span(g)[0] >= 0]
    wild, pos = set(), 0
    for i, w in enumerate(words):
        end = pos + len(w)
        if any(s < end and pos < e for s, e in spans):
            wild.add(i)
        pos = end + 1
    return wild


def _compile(pattern: str) -> tuple[re.Pattern[str], bool, list[str] | None]:
    body = " ".join(pattern.split())
    tail = body.endswith(" *")
    core = body[:-2] if tail else body
    rx = "".join("(.*)" if c == "*" else "(.)" if c == "?" else re.escape(c) for c in core)
    rx += "(?: (.*))?" if tail else ""
    first = body.split(" ", 1)[0]
    simple = tail and not any(c in core for c in "*?")
    return (
        re.compile(rx, re.DOTALL),
        "*" in first or "?" in first,
        core.split(" ") if simple else None,
    )


def uncovered(pattern: str, argv: tuple[str, ...], assigns: tuple[str, ...], root: str | None
              ) -> str | None:  # fmt: skip
    """Why an allow rule whose pattern matches does not cover this command, or None."""
    words = [*assigns, *argv]
    wild = wild_words(pattern, words)
    if wild is None:
        if assigns and wild_words(pattern, list(argv)) is not None:
            names = ", ".join(a.split("=", 1)[0] for a in assigns)
            return f"sets {names} for the command: a rule allows that only if it says so"
        return "the pattern does not match"
    if wild == {-1}:
        return None
    offset = len(assigns)
    for i in range(offset):
        if i in wild:
            return f"{words[i]!r}: a variable set for the command must be written in the rule"
    n, table = runner_for(argv)
    kinds = classify(argv, n, table)
    named_target: bool | None = None  # computed when first needed (a runner whose operands run)
    for i, kind, name in kinds:
        if i + offset not in wild:
            continue
        word = argv[i]
        if kind == "option-unknown":
            tool = " ".join(argv[:n])
            return (f"{name!r}: not an option known not to change what {tool} runs; write it "
                    "in the rule to allow it")  # fmt: skip
        if kind == "operand":
            if table is not None and table.assignments_change and _ASSIGN.match(word):
                return f"{word!r}: sets a variable that changes what {argv[0]} runs"
            if table is not None and table.operands_run:
                if named_target is None:
                    named_target = any(
                        k == "operand" and j + offset not in wild for j, k, _ in kinds
                    )
                if named_target:
                    return f"{word!r}: another {argv[0]} target runs other recipes"
            if root is not None and (why := _outside(root, word)):
                return why
    return None


def classify(argv: tuple[str, ...], start: int, table: Runner | None) -> list[tuple[int, str, str]]:
    """(index, kind, option name) for each word after the tool's name: kind is option,
    option-unknown, value or operand."""
    out: list[tuple[int, str, str]] = []
    cur = table
    i = start
    while i < len(argv):
        a = argv[i]
        if a == "--" and cur is not None:
            out.append((i, "option", "--"))
            cur = cur.after if cur.after is not None else None
            i += 1
            continue
        if not a.startswith("-") or a == "-" or (cur is None and a == "--"):
            if cur is None and a == "--":
                out.append((i, "option", "--"))
            else:
                out.append((i, "operand", ""))
            i += 1
            continue
        kinds, i = _option(cur, argv, i)
        out += kinds
    return out


def _option(t: Runner | None, argv: tuple[str, ...], i: int) -> tuple[list, int]:
    a = argv[i]
    if t is None:
        return [(i, "option-unknown", a.split("=", 1)[0])], i + 1
    if a.startswith("--") or t.style == "go":
        name, eq, _ = a.lstrip("-").partition("=")
        if name in t.sets["long_valued"]:
            if eq or i + 1 >= len(argv):
                return [(i, "option", name)], i + 1
            return [(i, "option", name), (i + 1, "value", name)], i + 2
        if name in t.sets["long_optional"] or (name in t.sets["long"] and (
                not eq or t.style == "go")):  # fmt: skip
            return [(i, "option", name)], i + 1
        if t.style == "go" or len(a) > 2 and a.startswith("--"):
            return [(i, "option-unknown", a.split("=", 1)[0])], i + 1
    if t.numeric and a[1:].isdigit():
        return [(i, "option", a)], i + 1
    for j, ch in enumerate(a[1:], 1):
        if ch in t.flags:
            continue
        if ch in t.valued:
            if j + 1 < len(a) or i + 1 >= len(argv):
                return [(i, "option", a)], i + 1
            return [(i, "option", a), (i + 1, "value", a)], i + 2
        return [(i, "option-unknown", f"-{ch}")], i + 1
    return [(i, "option", a)], i + 1


def _outside(root: str, word: str) -> str | None:
    if "://" in word or not word:
        return None
    if is_plain_path(word):
        real = resolve_in(root, word)
        return None if inside(root, real) else f"{word!r}: reaches outside the workspace"
    paths, unknown = operand_paths(root, word)
    if unknown or any(not inside(root, p) for p in paths):
        return f"{word!r}: names a path outside the workspace"
    return None
