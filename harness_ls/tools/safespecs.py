"""The known-safe table: each command on the exact list and what it may be given (options, operands,
the checks of its small language). tools/knownsafe.py applies it to a parsed command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import harness_ls.tools.safeprograms as sp

__all__ = ["KNOWN_SAFE", "SPECS", "Spec"]


@dataclass(frozen=True)
class Spec:
    """What one command may be given. Long names without dashes, space separated."""

    flags: str = ""  # short options without a value
    valued: str = ""  # short options taking a value (`-n 5`, `-n5`)
    long: str = ""
    long_valued: str = ""
    long_optional: str = ""  # `--color` or `--color=auto`
    operands: str = "paths"  # paths (read) | names (only looked at) | text | program | wrapper
    numeric: bool = False  # `head -5`
    path_values: str = ""  # options whose value is a file read: "-f file"
    program_opts: str = ""  # options giving the program/pattern instead of the first operand
    recursive: str = ""  # options that read whole directory trees
    max_operands: int = -1
    check: Callable[[list[tuple[str, str | None]], list[str]], str | None] | None = None
    sets: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("long", "long_valued", "long_optional", "path_values", "program_opts",
                     "recursive"):  # fmt: skip
            self.sets[name] = frozenset(getattr(self, name).split())


def _seq(opts: list[tuple[str, str | None]], ops: list[str]) -> str | None:
    fmt = next((v for o, v in opts if o in ("-f", "--format") and v), None)
    return sp.seq_problem(ops) or (sp.format_problem(fmt) if fmt else None)


def _printf(opts: list[tuple[str, str | None]], ops: list[str]) -> str | None:
    return sp.format_problem(ops[0]) if ops else None


def _program(checker: Callable[[str], str | None]):
    def check(opts: list[tuple[str, str | None]], ops: list[str]) -> str | None:
        given = [v for o, v in opts if o in ("-e", "--expression") and v is not None]
        texts = given or ops[:1]
        return next((why for t in texts if (why := checker(t))), None)

    return check


def _widths(*names: str, limit: int = 1000):
    def check(opts: list[tuple[str, str | None]], ops: list[str]) -> str | None:
        for o, v in opts:
            if o in names and v is not None and (not v.isdecimal() or int(v) > limit):
                return f"{o} {v}: a width above {limit}"
        return None

    return check


_GREP = Spec(
    flags="EFGPiyvwxcLloqsbHhnTZzaIrU", valued="efmABCdD",
    long="extended-regexp fixed-strings basic-regexp perl-regexp ignore-case no-ignore-case "
    "invert-match word-regexp line-regexp count files-without-match files-with-matches "
    "only-matching quiet silent no-messages byte-offset with-filename no-filename line-number "
    "initial-tab null null-data text recursive line-buffered binary",
    long_valued="regexp file max-count after-context before-context context include exclude "
    "exclude-dir exclude-from label binary-files devices directories",
    long_optional="color colour", operands="program", path_values="-f --file --exclude-from",
    program_opts="-e -f --regexp --file", recursive="-r --recursive",
)  # fmt: skip
_SUMS = Spec(flags="btz", long="binary text zero tag")
_WRAP = Spec(operands="wrapper")
SPECS: dict[str, Spec] = {
    "cat": Spec(flags="AbeEnstTuv", long="show-all number-nonblank show-ends number "
                "squeeze-blank show-tabs show-nonprinting"),
    "head": Spec(flags="qvz", valued="cn", long="quiet silent verbose zero-terminated",
                 long_valued="bytes lines", numeric=True),
    "tail": Spec(flags="qvz", valued="cn", long="quiet silent verbose zero-terminated",
                 long_valued="bytes lines", numeric=True),
    "wc": Spec(flags="cmlLw", long="bytes chars lines max-line-length words",
               long_valued="total"),
    "ls": Spec(flags="aAbBcCdDfFgGhHiklLmnNopqQrRsStuUvxXZ1", valued="IwT",
               long="all almost-all author escape ignore-backups directory dired file-type "
               "full-time group-directories-first human-readable si dereference-command-line "
               "dereference-command-line-symlink-to-dir inode kibibytes dereference literal "
               "hide-control-chars show-control-chars quote-name numeric-uid-gid no-group "
               "recursive reverse size context zero",
               long_valued="block-size format hide ignore indicator-style quoting-style sort "
               "time time-style width tabsize",
               long_optional="color colour classify hyperlink", operands="names"),
    "grep": _GREP, "egrep": _GREP, "fgrep": _GREP,
    "rg": Spec(flags="iSswvxclnNoFUHIqp0ab.uP", valued="efgtTABCmMjrdE",
               long="ignore-case smart-case case-sensitive word-regexp invert-match line-regexp "
               "count count-matches files files-with-matches files-without-match line-number "
               "no-line-number only-matching fixed-strings multiline multiline-dotall "
               "with-filename no-filename quiet pretty null text byte-offset hidden no-ignore "
               "no-ignore-vcs no-ignore-dot no-ignore-parent no-ignore-global no-ignore-exclude "
               "no-ignore-files no-heading heading column no-column json vimgrep stats trim "
               "no-messages crlf pcre2 passthru no-config one-file-system no-unicode "
               "max-columns-preview null-data binary sort-files",
               long_valued="regexp file glob iglob type type-not after-context before-context "
               "context max-count max-columns max-depth threads replace encoding sort sortr "
               "context-separator field-match-separator field-context-separator path-separator "
               "type-add max-filesize engine ignore-file",
               long_optional="color", operands="program",
               path_values="-f --file --ignore-file", program_opts="-e -f --regexp --file --files"),
    "echo": Spec(operands="text"), "printf": Spec(operands="text", check=_printf),
    "true": Spec(operands="text"), "false": Spec(operands="text"), ":": Spec(operands="text"),
    "pwd": Spec(flags="LP", max_operands=0),
    "diff": Spec(flags="abBdEHiNpqrsStTuwyZefn", valued="CUWxXSIFD",
                 long="brief report-identical-files expand-tabs initial-tab suppress-blank-empty "
                 "ignore-case ignore-tab-expansion ignore-trailing-space ignore-space-change "
                 "ignore-all-space ignore-blank-lines text strip-trailing-cr minimal "
                 "speed-large-files new-file unidirectional-new-file recursive no-dereference "
                 "side-by-side left-column suppress-common-lines normal ed rcs "
                 "ignore-file-name-case no-ignore-file-name-case",
                 long_valued="width ignore-matching-lines label show-function-line exclude "
                 "exclude-from starting-file from-file to-file ifdef old-line-format "
                 "new-line-format unchanged-line-format line-format old-group-format "
                 "new-group-format unchanged-group-format changed-group-format horizon-lines "
                 "tabsize palette",
                 long_optional="color unified context",
                 path_values="-X --exclude-from --from-file --to-file",
                 recursive="-r --recursive", check=_widths("-W", "--width")),
    "cmp": Spec(flags="bls", valued="in", long="print-bytes verbose quiet silent",
                long_valued="ignore-initial bytes", max_operands=4),
    "stat": Spec(flags="Lft", valued="c", long="dereference file-system terse",
                 long_valued="format printf cached", operands="names"),
    "file": Spec(flags="bdEhiklLnNrsS0", valued="eFP",
                 long="brief debug extension keep-going mime mime-type mime-encoding no-buffer "
                 "no-dereference dereference no-pad print0 raw special-files apple",
                 long_valued="exclude exclude-quiet separator parameter"),
    "basename": Spec(flags="az", valued="s", long="multiple zero", long_valued="suffix",
                     operands="text"),
    "dirname": Spec(flags="z", long="zero", operands="text"),
    "nl": Spec(flags="p", valued="bdfhilnsvw", long="no-renumber",
               long_valued="body-numbering section-delimiter footer-numbering header-numbering "
               "line-increment join-blank-lines number-format number-separator "
               "starting-line-number number-width", check=_widths("-w", "--number-width")),
    "cut": Spec(flags="nsz", valued="bcdf", long="complement only-delimited zero-terminated",
                long_valued="bytes characters delimiter fields output-delimiter"),
    "tr": Spec(flags="cCdst", long="complement delete squeeze-repeats truncate-set1",
               operands="text", max_operands=2),
    "seq": Spec(flags="w", valued="fs", long="equal-width", long_valued="format separator",
                operands="text", check=_seq),
    "realpath": Spec(flags="emLPqsz", long="canonicalize-existing canonicalize-missing logical "
                     "physical quiet strip no-symlinks zero",
                     long_valued="relative-to relative-base", operands="names"),
    "readlink": Spec(flags="femnqsvz", long="canonicalize canonicalize-existing "
                     "canonicalize-missing no-newline quiet silent verbose zero",
                     operands="names"),
    "du": Spec(flags="0abcDhHklLmsSx", valued="dBtX",
               long="null all apparent-size bytes total dereference-args human-readable si "
               "dereference count-links separate-dirs summarize one-file-system inodes",
               long_valued="max-depth block-size threshold exclude exclude-from time-style",
               long_optional="time", path_values="-X --exclude-from", operands="names"),
    "tree": Spec(flags="adlfixApugshDFqNQrtvUcCnJS", valued="LPI",
                 long="noreport dirsfirst du prune matchdirs ignore-case inodes device si",
                 long_valued="filelimit charset sort timefmt", operands="names"),
    "sha256sum": _SUMS, "sha1sum": _SUMS, "sha512sum": _SUMS, "md5sum": _SUMS, "b2sum": _SUMS,
    "cksum": Spec(flags="z", long="zero tag raw untagged"),
    "base64": Spec(flags="di", valued="w", long="decode ignore-garbage", long_valued="wrap",
                   max_operands=1),
    "sort": Spec(flags="bdfgiMhnRrVcCmsuz", valued="kSt",
                 long="ignore-leading-blanks dictionary-order ignore-case general-numeric-sort "
                 "ignore-nonprinting month-sort human-numeric-sort numeric-sort random-sort "
                 "reverse version-sort merge stable unique zero-terminated debug",
                 long_valued="key field-separator buffer-size parallel random-source sort "
                 "batch-size", long_optional="check", path_values="--random-source"),
    "uniq": Spec(flags="cdDiuz", valued="fsw", long="count repeated unique ignore-case "
                 "zero-terminated", long_valued="skip-fields skip-chars check-chars",
                 long_optional="all-repeated group", max_operands=1),
    "comm": Spec(flags="123z", long="check-order nocheck-order total zero-terminated",
                 long_valued="output-delimiter", max_operands=2),
    "paste": Spec(flags="sz", valued="d", long="serial zero-terminated",
                  long_valued="delimiters"),
    "rev": Spec(),
    "tac": Spec(flags="br", valued="s", long="before regex", long_valued="separator"),
    "which": Spec(flags="as", operands="text"),
    "type": Spec(flags="aftpP", operands="text"),
    "uname": Spec(flags="asnrvmpio", long="all kernel-name nodename kernel-release "
                  "kernel-version machine processor hardware-platform operating-system",
                  max_operands=0),
    "whoami": Spec(max_operands=0), "id": Spec(flags="gGnruzZ", operands="text"),
    "printenv": Spec(flags="0", long="null", operands="text"),
    "expr": Spec(operands="text"),
    "sed": Spec(flags="nEsuzr", valued="el", long="quiet silent regexp-extended separate "
                "unbuffered null-data posix debug sandbox", long_valued="expression line-length",
                operands="program", program_opts="-e --expression", check=_program(sp.sed_problem)),
    "awk": Spec(valued="Fv", long_valued="field-separator assign", operands="program",
                check=_program(sp.awk_problem)),
    "jq": Spec(flags="rjacCMnSseR", long="raw-output join-output ascii-output compact-output "
               "color-output monochrome-output null-input slurp sort-keys exit-status "
               "raw-input tab seq stream stream-errors raw-output0",
               long_valued="indent", operands="program", check=_program(sp.jq_problem)),
    "command": _WRAP, "builtin": _WRAP, "time": Spec(flags="p", operands="wrapper"),
    "nice": Spec(valued="n", long_valued="adjustment", operands="wrapper"),
    "timeout": Spec(flags="v", valued="sk", long="preserve-status foreground verbose",
                    long_valued="signal kill-after", operands="wrapper"),
    "env": Spec(flags="i0", valued="u", long="ignore-environment null", long_valued="unset",
                operands="wrapper"),
}  # fmt: skip
KNOWN_SAFE = frozenset(SPECS) | {"test", "[", "[[", "find"}
