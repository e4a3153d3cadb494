"""Tasks for the context benchmarks, made from real git histories, and the trees to run them on.

A task is a past commit that modified 1-3 source files (not tests, docs or config): its message,
trailers and all, written into the spec template (Goal, a generic constraint, the language's
acceptance-test command) and given to the ranking the way a run gives it (Goal + "\\n" + spec);
truth = those source files. The tree is the commit's parent, in a `--shared` scratch clone:
- with history: the clone checked out at the parent (history features see only earlier commits);
- without history: the same tree as a fresh single-commit `git init` (the clone's .git is moved
  aside meanwhile, so the tag cache, keyed by path and mtime, stays warm).
Git is called directly here: this is dataset preparation, not the product.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness_ls.agent.plan import goal_summary
from harness_ls.context import count_tokens
from harness_ls.context.bm25 import BM25, terms
from harness_ls.context.kinds import SOURCE, excluded, kind_of

MAX_SOURCE = 3
TEST_COMMAND = {
    "Python": "python -m pytest -q",
    "Go": "go test ./...",
    "JS/TS": "npm test",
    "Rust": "cargo test",
    "Java": "mvn -q test",
}
CONSTRAINT = "Keep the change focused and the existing behaviour intact."


def git(repo: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=check, errors="replace"
    ).stdout


def language(clone: Path) -> str:
    """The repo's main language, from its root manifest."""
    names = set(git(clone, "ls-tree", "--name-only", "HEAD").split())
    for manifest, lang in (("go.mod", "Go"), ("Cargo.toml", "Rust"), ("pom.xml", "Java"),
                           ("build.gradle", "Java"), ("build.gradle.kts", "Java"),
                           ("package.json", "JS/TS"), ("pyproject.toml", "Python"),
                           ("setup.py", "Python")):  # fmt: skip
        if manifest in names:
            return lang
    return "Python"


def as_spec(message: str, lang: str) -> str:
    """The commit message as a spec from the template, trailers included (pasted as is)."""
    subject, _, body = message.strip().partition("\n")
    goal = f"{subject.strip()}\n\n{body.strip()}".strip()
    return (
        f"# Goal\n\n{goal}\n\n# Constraints / nuances\n\n- {CONSTRAINT}\n\n"
        f"# Acceptance tests\n\n- `{TEST_COMMAND[lang]}`\n"
    )


def run_task(spec: str) -> str:
    """What a run gives the ranking: its goal, then the whole spec (agent/repo.run_context)."""
    goal, _ = goal_summary(spec)
    return f"{goal}\n{spec}"


@dataclass
class Commit:
    sha: str
    message: str
    truth: list[str]


def pick_commits(clone: Path, n: int, skip: int = 0, tip: str = "origin/HEAD") -> list[Commit]:
    """The last n usable commits below `tip` (the source repo's HEAD, not the clone's, which
    the last task left at some parent), after the newest `skip` usable ones; oldest first."""
    out: list[Commit] = []
    log = git(clone, "log", "--no-merges", "--no-renames", "-n", str((n + skip) * 15),
              "--name-status", "--format=%x00%H", tip)  # fmt: skip
    seen = 0
    for block in log.split("\0"):
        lines = [x for x in block.splitlines() if x.strip()]
        if len(lines) < 2:
            continue
        sha, changes = lines[0], [x.split("\t") for x in lines[1:]]
        src = [p[-1] for p in changes if kind_of(p[-1]) == SOURCE and not excluded(p[-1])]
        if not 1 <= len(src) <= MAX_SOURCE or any(p[0] != "M" for p in changes if p[-1] in src):
            continue
        msg = git(clone, "log", "-1", "--format=%B", sha).strip()
        if len(terms(msg.partition("\n")[0])) < 2:
            continue
        seen += 1
        if seen <= skip:
            continue
        out.append(Commit(sha, msg, src))
        if len(out) >= n:
            break
    return out[::-1]


def scratch_clone(repo: Path, where: Path, name: str) -> Path:
    """A `--shared` clone of `repo` as where/name (reused; the repo itself is never touched)."""
    clone = where / name
    restore_history(clone)
    if not (clone / ".git").is_dir():
        shutil.rmtree(clone, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(repo), str(clone)],
                       check=True)  # fmt: skip
    return clone


def checkout(clone: Path, rev: str) -> None:
    git(clone, "checkout", "-q", "-f", "--detach", rev)
    git(clone, "clean", "-qfdx")


def _aside(clone: Path) -> Path:
    return clone.parent / f".{clone.name}.history-git"


def restore_history(clone: Path) -> None:
    """Put the clone's own .git back if a run without history was interrupted."""
    aside = _aside(clone)
    if aside.is_dir():
        shutil.rmtree(clone / ".git", ignore_errors=True)
        aside.rename(clone / ".git")


@contextlib.contextmanager
def without_history(clone: Path) -> Iterator[Path]:
    """The checked-out tree as a fresh single-commit repository, for the block's duration."""
    (clone / ".git").rename(_aside(clone))
    try:
        env = ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "gc.auto=0"]
        git(clone, "init", "-q")
        git(clone, "add", "-A")
        git(clone, *env, "commit", "-q", "--no-verify", "-m", "snapshot")
        yield clone
    finally:
        restore_history(clone)


def bm25_rank(root: Path, files: list[str], task: str) -> list[str]:
    """The baseline: files by BM25 of the task over their path and whole contents."""
    docs = []
    for rel in files:
        try:
            text = (root / rel).read_bytes()[: 512 * 1024].decode("utf-8", errors="replace")
        except OSError:
            text = ""
        docs.append(terms(rel + " " + text))
    scores = BM25(docs).scores(terms(task))
    return [files[i] for i in sorted(range(len(files)), key=lambda i: -scores[i]) if scores[i] > 0]


def bm25_packed(root: Path, ranked: list[str], budget: int) -> set[str]:
    """The baseline's content: whole files, best first, while they fit the budget."""
    used, out = 0, set()
    for rel in ranked[:60]:
        try:
            cost = count_tokens((root / rel).read_text("utf-8", errors="replace")) + 8
        except OSError:
            continue
        if used + cost <= budget:
            used += cost
            out.add(rel)
    return out
