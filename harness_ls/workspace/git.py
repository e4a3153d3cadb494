"""The user's repository for the workspace package (`init`'s file listing, legacy refs in gc).

Plain `git` subprocesses through harness_ls.gitrun (found by our own discovery, the repository's
config never read, safe flags and environment): simpler and ~10x cheaper to start than
gitpython's object layer. Every failure becomes a typed HarnessError naming the repository and
what to do.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness_ls.errors import Conflict, HarnessError, InvalidInput
from harness_ls.gitrun import NoRepository, NotAGitRepo, SafeGit, find_repo, repo_git

IDENTITY = {
    "GIT_AUTHOR_NAME": "harness-ls",
    "GIT_AUTHOR_EMAIL": "harness-ls@localhost",
    "GIT_COMMITTER_NAME": "harness-ls",
    "GIT_COMMITTER_EMAIL": "harness-ls@localhost",
}
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitLocked(Conflict):
    """Another git process holds a lock (index.lock, a ref lock)."""

    code = "git_locked"


class GitError(HarnessError):
    code = "git_error"
    status = 500


@dataclass(frozen=True)
class Repo:
    """A non-bare repository: its work tree root and git directories."""

    root: Path
    git_dir: Path
    common_dir: Path
    index_file: Path  # the user's index (per worktree); only ever read, never written
    git: SafeGit | None = field(default=None, compare=False, repr=False)

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        if self.git is None:  # a Repo built only to name a repository in an error
            raise GitError(f"no git runner for {self.root}")
        proc = self.git.run(*args, env=env, input=input)
        if check and proc.returncode != 0:
            raise git_failure(self, args, proc.stderr.decode(errors="replace"))
        return proc

    def out(self, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
        return self.run(*args, env=env, input=input).stdout.decode(errors="surrogateescape").strip()

    def head(self) -> str | None:
        """HEAD's commit, or None in a repository with no commits yet."""
        proc = self.run("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def branch(self) -> str | None:
        """The checked-out branch name, or None when HEAD is detached."""
        proc = self.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def head_and_tree(self) -> tuple[str | None, str]:
        """(HEAD commit, its tree) in one git call; (None, empty tree) with no commits yet."""
        proc = self.run("rev-parse", "HEAD^{commit}", "HEAD^{tree}", check=False)
        lines = proc.stdout.decode().split()
        return (
            (lines[0], lines[1]) if proc.returncode == 0 and len(lines) == 2 else (None, EMPTY_TREE)
        )

    def index_path(self) -> Path:
        return self.index_file

    def index_locked(self) -> bool:
        return self.index_file.with_name(self.index_file.name + ".lock").exists()


def git_failure(repo: Repo, args: tuple[str, ...], stderr: str) -> HarnessError:
    """Map git's stderr to a typed error with a hint (locks are the common, fixable case)."""
    msg = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    if ".lock" in stderr and (
        "File exists" in stderr or "cannot lock" in stderr or "Unable to create" in stderr
    ):
        return GitLocked(
            f"another git process is using {repo.root} ({msg})",
            hint="wait for it to finish; if no git command is running, remove the stale .lock file named above",
        )
    return GitError(
        f"git {args[0]} failed in {repo.root}: {msg}", details={"stderr": stderr[-2000:]}
    )


def open_repo(workspace: str | os.PathLike[str]) -> Repo:
    """The repository containing `workspace`; NotAGitRepo with the `git init` hint otherwise."""
    ws = Path(workspace).expanduser()
    if not ws.is_dir():
        raise InvalidInput(
            f"workspace {ws} is not a directory", hint="pass an existing project directory"
        )
    try:
        loc = find_repo(ws)
    except NoRepository:
        raise NotAGitRepo(
            f"{ws.resolve()} is not inside a git work tree",
            hint=f"run `git init` in {ws.resolve()} (and commit once) so changes can be checkpointed and reverted",
        ) from None
    return Repo(loc.work_tree, loc.git_dir, loc.common_dir, loc.git_dir / "index", repo_git(loc))
