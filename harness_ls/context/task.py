"""What a task asks, apart from the spec's scaffolding around it.

A run's task is its Goal followed by its whole spec; a spec is mostly scaffolding that every spec
shares: headings ("Goal", "Acceptance tests"), the acceptance-test commands
(`` `python -m pytest -q` `` would otherwise lift `pytest.ini` in every Python repo), HTML
comments, and, when a commit message was pasted in, its trailers (`Co-authored-by: ...
users.noreply.github.com` would otherwise match `users.go`), URLs and e-mail addresses. None of
those says where the change goes. What does:
- the Goal and any text outside a section (the user's own words): full weight;
- other sections (constraints, nuances, notes): half weight, they qualify the goal;
- acceptance-test commands: only the test files they name (`pytest tests/test_cli.py`), never
  anything else (a config file, a source directory).
The Goal's subject (its first line) says what kind of task it is (docs, types).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .bm25 import terms

HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SETEXT_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.S)
INLINE_CODE_RE = re.compile(r"(`+)(.+?)\1")
# A git trailer: `Token-by: ...`, `Change-Id: ...`, `Cc: ...` (one-word tokens such as "Bug:"
# are left alone: a user writes "Bug: saving crashes"; their URLs and numbers are cleaned anyway).
TRAILER_RE = re.compile(r"^\s*(?:[A-Za-z]+(?:-[A-Za-z]+)*-(?:by|id)|cc)\s*:\s*\S.*$", re.I | re.M)
URL_RE = re.compile(r"\b(?:https?|ftp|file)://\S+|\bwww\.[\w-]+\.\S+", re.I)
EMAIL_RE = re.compile(r"<?[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?")
ISSUE_REF_RE = re.compile(r"(?<![\w/])(?:#|gh-|GH-)\d+\b")
LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")

# The spec schema's own headings (and their usual variants): scaffolding, not the task's words.
SCAFFOLD_HEADING_RE = re.compile(
    r"^\W*(goals?|non-goals?|acceptance( tests?| criteria)?|tests?|test plan|testing|verification"
    r"|constraints?( */ *nuances?| and nuances?)?|nuances?|notes?|context|why|what to build"
    r"|summary|task|problem|done when)\W*$",
    re.I,
)
GOAL, OTHER, ACCEPTANCE = "goal", "other", "acceptance"
OTHER_WEIGHT = 0.5
# The subject names a docs task: "Document the --json flag", "docs: fix the quick start".
DOC_SUBJECT_WORDS = frozenset(
    "doc docs document documentation readme changelog guide tutorial".split()
)
# ... unless the docs live in the code: docstrings and comments are in source files
CODE_DOC_WORDS = frozenset("docstring comment jsdoc godoc rustdoc javadoc".split())
# The task is about type declarations: `.d.ts` / `.pyi` files are then the code to change.
TYPE_WORDS = frozenset(
    "type typing typings typescript typed dts declaration typedef generic overload tsd".split()
)


@dataclass
class TaskText:
    """The parts of a task that may point at files, each with its weight."""

    goal: str = ""  # the Goal section and text outside any section
    other: str = ""  # constraints, notes: qualify the goal
    subject: str = ""  # the Goal's first line
    commands: list[str] = field(default_factory=list)  # acceptance-test commands

    @property
    def text(self) -> str:
        """Everything that may name code (not the commands)."""
        return f"{self.goal}\n{self.other}" if self.other else self.goal

    def term_weights(self) -> dict[str, float]:
        """Search term -> weight: 1 for the goal's terms, OTHER_WEIGHT for the rest."""
        out = dict.fromkeys(terms(self.other), OTHER_WEIGHT)
        out.update(dict.fromkeys(terms(self.goal), 1.0))
        return out


def section_kind(heading: str) -> str:
    low = heading.lower()
    if "acceptance" in low or low.strip(" :") in ("tests", "test plan", "testing", "verification"):
        return ACCEPTANCE
    if "non-goal" in low or "non goal" in low:
        return OTHER
    if "goal" in low or low.strip(" :") in ("task", "summary", "problem", "what to build"):
        return GOAL
    return OTHER


def _clean(line: str) -> str:
    """A line without what never names code: URLs, e-mail addresses, issue numbers."""
    line = URL_RE.sub(" ", line)
    line = EMAIL_RE.sub(" ", line)
    return ISSUE_REF_RE.sub(" ", line)


def read_task(task: str) -> TaskText:
    """Split a task (plain words, a spec, or goal + spec) into what weighs and what does not."""
    text = COMMENT_RE.sub(" ", task.replace("\r\n", "\n"))
    text = TRAILER_RE.sub("", text)
    parts: dict[str, list[str]] = {GOAL: [], OTHER: [], ACCEPTANCE: []}
    out = TaskText()
    kind, fence, goal_lines = GOAL, "", []
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if fence:
            if line.strip().startswith(fence):
                fence = ""
            elif kind == ACCEPTANCE:
                cmd = line.strip().removeprefix("$ ").strip()
                if cmd and not cmd.startswith("#"):
                    out.commands.append(cmd)
            else:
                parts[kind].append(_clean(line))
            continue
        m = FENCE_RE.match(line)
        if m:
            fence = m.group(1)[0] * 3
            continue
        h = HEADING_RE.match(line)
        if h:
            kind = section_kind(h.group(2))
            if not SCAFFOLD_HEADING_RE.search(h.group(2)):  # a heading of the user's own
                parts[OTHER].append(_clean(h.group(2)))
            continue
        if SETEXT_RE.match(line) and n and lines[n - 1].strip():
            continue  # the underline of a setext heading (its text stays: rare in specs)
        if kind == ACCEPTANCE:
            out.commands.extend(m.group(2).strip() for m in INLINE_CODE_RE.finditer(line))
            line = INLINE_CODE_RE.sub(" ", line)
        parts[kind if kind != ACCEPTANCE else OTHER].append(_clean(line))
        if kind == GOAL and line.strip():
            goal_lines.append(line.strip())
    out.goal = "\n".join(parts[GOAL]).strip()
    out.other = "\n".join(parts[OTHER]).strip()
    out.subject = LIST_ITEM_RE.sub("", goal_lines[0]) if goal_lines else ""
    return out


def is_doc_task(subject: str) -> bool:
    """The task's subject says it is about documentation (then prose may rank with code), not
    about docstrings or comments, which live in the code. Incidental words in the body
    ("... and note it in the changelog") do not make a docs task."""
    words = set(terms(subject)) | {w.lower() for w in re.findall(r"[A-Za-z]+", subject)}
    return bool(DOC_SUBJECT_WORDS & words) and not CODE_DOC_WORDS & words


def is_types_task(task: TaskText) -> bool:
    """The goal talks about types: declaration files (`.d.ts`, `.pyi`) are then first-class."""
    if ".d.ts" in task.goal or ".pyi" in task.goal:
        return True
    words = set(terms(task.goal)) | {w.lower() for w in re.findall(r"[A-Za-z]+", task.goal)}
    return bool(TYPE_WORDS & words)
