"""Checks for the small languages known-safe commands take: sed scripts, awk and jq programs,
printf / seq formats and `seq` ranges. Each returns why the text is not provably harmless, or None.

They are deliberately narrow: a sed command that writes (`w`, `W`, `s///w`), reads another file
(`r`, `R`) or executes (`e`, `s///e`) fails; an awk program with `system`, `getline`, pipes, output
redirection, loops, `ARGV` or gawk extensions fails; a jq program may only use a list of builtins
that neither load modules nor generate without end. Anything not recognised fails too.
"""

from __future__ import annotations

import re

MAX_SEQ_LINES = 100_000
_WIDE = re.compile(r"%[-+ #0'I]*(?:\*|\d{5,}|\.\*|\.\d{5,}|\d*\.(?:\*|\d{5,}))")


def format_problem(fmt: str) -> str | None:
    """printf-style formats: a `*` or a 5-digit width prints without bound."""
    if _WIDE.search(fmt.replace("%%", "")):
        return "a format with a huge or computed width"
    return None


def seq_problem(numbers: list[str]) -> str | None:
    """`seq` prints at most MAX_SEQ_LINES lines (`seq 1 99999999999` is a generator, not a read)."""
    try:
        vals = [float(n) for n in numbers]
    except ValueError:
        return "seq takes numbers"
    if not 1 <= len(vals) <= 3 or any(v != v or abs(v) == float("inf") for v in vals):
        return "seq takes one to three finite numbers"
    first, inc, last = (1.0, 1.0, vals[0]) if len(vals) == 1 else (
        (vals[0], 1.0, vals[1]) if len(vals) == 2 else tuple(vals))  # fmt: skip
    if inc == 0:
        return "seq with a zero increment never ends"
    count = (last - first) / inc + 1
    if count > MAX_SEQ_LINES:
        return f"seq would print {count:.0f} lines (more than {MAX_SEQ_LINES})"
    return None


# -- sed -------------------------------------------------------------------------------------

_SED_SIMPLE = set("=dDgGhHlnNpPxzFqQL")
_SED_S_FLAGS = set("gpiImM0123456789")


def sed_problem(script: str) -> str | None:
    """None when every command of a sed script only edits the stream it prints."""
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c in " \t\n;}{":
            i += 1
            continue
        if c == "#":
            i = _to_eol(script, i)
            continue
        i = _address(script, i)
        if i < 0:
            return "a sed address it cannot read"
        i = _spaces(script, i)
        if i < n and script[i] == ",":
            i = _address(script, _spaces(script, i + 1), second=True)
            if i < 0:
                return "a sed address it cannot read"
            i = _spaces(script, i)
        if i < n and script[i] == "!":
            i = _spaces(script, i + 1)
        if i >= n:
            return "a sed address without a command"
        cmd = script[i]
        i += 1
        if cmd in "{}":
            continue
        if cmd in _SED_SIMPLE:
            while i < n and (script[i].isdigit() or script[i] in " \t"):
                i += 1
        elif cmd in ":btTv":
            while i < n and script[i] not in ";\n}":
                i += 1
        elif cmd in "aic":
            i = _text_arg(script, i)
        elif cmd in "sy":
            i, flags = _delimited(script, i, 2)
            if i < 0:
                return f"a sed {cmd} command it cannot read"
            if cmd == "s":
                while i < n and script[i] not in ";\n} \t#":
                    if script[i] not in _SED_S_FLAGS:
                        what = {"e": "executes", "w": "writes"}.get(script[i], "uses")
                        return (
                            f"sed s///{script[i]} {what} (only g p i I m M and a number are safe)"
                        )
                    i += 1
        elif cmd in "rRwWe":
            verb = (
                "reads another file"
                if cmd in "rR"
                else "writes a file"
                if cmd in "wW"
                else "executes"
            )
            return f"sed {cmd} {verb}"
        else:
            return f"sed command {cmd!r} is not on the known-safe list"
    return None


def _spaces(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t":
        i += 1
    return i


def _to_eol(s: str, i: int) -> int:
    j = s.find("\n", i)
    return len(s) if j < 0 else j + 1


def _address(s: str, i: int, second: bool = False) -> int:
    n = len(s)
    if i >= n:
        return i
    c = s[i]
    if c.isdigit() or (second and c in "+~"):
        i += 1
        while i < n and (s[i].isdigit() or s[i] == "~"):
            i += 1
        return i
    if c == "$":
        return i + 1
    if c == "/" or c == "\\":
        delim = "/" if c == "/" else (s[i + 1] if i + 1 < n else "")
        if not delim or delim in "\n\\":
            return -1
        j, _ = _delimited(s, i if c == "/" else i + 1, 1)
        if j < 0:
            return -1
        while j < n and s[j] in "IM":
            j += 1
        return j
    return i


def _delimited(s: str, i: int, parts: int) -> tuple[int, str]:
    """Skip `<d>a<d>b<d>` from s[i] (the delimiter); (-1, "") when it does not close."""
    if i >= len(s) or s[i] in "\n\\":
        return -1, ""
    delim, i = s[i], i + 1
    for _ in range(parts):
        while i < len(s) and s[i] != delim:
            if s[i] == "\n" and parts == 1:
                return -1, ""
            i += 2 if s[i] == "\\" else 1
        if i >= len(s):
            return -1, ""
        i += 1
    return i, delim


def _text_arg(s: str, i: int) -> int:
    """The text of a/i/c: to the end of the line, continued by a trailing backslash."""
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            i += 2
            continue
        if s[i] == "\n":
            return i + 1
        i += 1
    return i


# -- awk -------------------------------------------------------------------------------------

_AWK_BANNED = re.compile(
    r"\b(system|getline|close|fflush|while|for|do|function|func|ARGV|ARGC|PROCINFO)\b"
    r"|@|(?<!\|)\|(?!\|)|\$\s*\d{7,}|\bNF\s*=[^=]"
)
_AWK_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def awk_problem(program: str) -> str | None:
    """An awk program that only reads its input and prints to stdout, without loops."""
    for m in _AWK_STRING.finditer(program):
        if format_problem(m.group()):
            return "awk prints with a huge or computed width"
    code = _AWK_STRING.sub('""', program)
    bad = _AWK_BANNED.search(code)
    if bad:
        return f"awk uses {bad.group().strip()!r} (runs, reads, loops or redirects)"
    if ">" in code and re.search(r"\bprintf?\b", code):
        if "/" in code or _print_redirects(code):
            return "awk output may be redirected to a file (`print … > file`)"
    return None


def _print_redirects(code: str) -> bool:
    """A `>` at parenthesis depth 0 inside a print statement redirects its output."""
    for m in re.finditer(r"\bprintf?\b", code):
        depth = 0
        for ch in code[m.end() :]:
            if ch in ";}\n{":
                break
            depth += ch == "("
            depth -= ch == ")"
            if ch == ">" and depth <= 0:
                return True
    return False


# -- jq --------------------------------------------------------------------------------------

_JQ_WORDS = frozenset("""
select map map_values keys keys_unsorted values length utf8bytelength has in to_entries
from_entries with_entries add any all flatten unique unique_by sort sort_by group_by min max
min_by max_by reverse contains inside startswith endswith ltrimstr rtrimstr trim ltrim rtrim
explode implode split join ascii_downcase ascii_upcase test match capture scan splits sub gsub
tostring tonumber tojson fromjson type not and or if then elif else end as empty error paths
leaf_paths getpath del first last nth indices index rindex floor ceil round sqrt fabs abs
isnan isinfinite isnormal null true false objects arrays strings numbers booleans nulls
iterables scalars input inputs debug stderr input_filename input_line_number limit try catch
env builtins halt halt_error tostream fromstream truncate_stream walk transpose todate
fromdate dateadd datesub date now strftime strptime mktime gmtime localtime todateiso8601
fromdateiso8601 IN INDEX ascii getpath to_number toarray pick isempty splits label break
ascii tojson min max significand logb gamma exp exp10 log log10 log2 pow10 infinite nan
""".split())  # fmt: skip
_JQ_STRING = re.compile(r'"(?:[^"\\]|\\[^(])*"')
_JQ_IDENT = re.compile(r"(?<![.$@\w])[A-Za-z_][A-Za-z0-9_]*(?![\w:]|\s+:)")


def jq_problem(program: str) -> str | None:
    """A jq program built from builtins that read, select and format (no modules, no `def`, no
    generators without end such as `repeat`, `range`, `while`, `recurse(f)`, `*`)."""
    code = _JQ_STRING.sub('""', program)
    if "*" in code or re.search(r"\d{6,}", code):
        return "jq with `*` or a large number can build output without bound"
    for m in _JQ_IDENT.finditer(code):
        if m.group() not in _JQ_WORDS:
            return f"jq builtin {m.group()!r} is not on the known-safe list"
    return None
