"""A small, fast git runner for the workspace package (plain `git` subprocesses, no gitpython).

Plumbing commands with an explicit environment are simpler and ~10x cheaper to start than
gitpython's object layer, and they let checkpoints use a private index file (GIT_INDEX_FILE)
without any risk of touching the user's. Every failure becomes a typed HarnessError naming the
repository and what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness_ls.errors import Conflict, HarnessError, InvalidInput

# Variables a calling git hook or shell may have set that would redirect our commands.
_STRIP = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
)
IDENTITY = {
    "GIT_AUTHOR_NAME": "harness-ls",
    "GIT_AUTHOR_EMAIL": "harness-ls@localhost",
    "GIT_COMMITTER_NAME": "harness-ls",
    "GIT_COMMITTER_EMAIL": "harness-ls@localhost",
}
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class NotAGitRepo(InvalidInput):
    code = "not_a_git_repo"


class GitLocked(Conflict):
    """Another git process holds a lock (index.lock, a ref lock)."""

    code = "git_locked"


class GitError(HarnessError):
    code = "git_error"
    status = 500


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIP}
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    return env


def _git_binary() -> str:
    found = shutil.which("git")
    if not found:
        raise InvalidInput(
            "git is not installed", hint="install git (Debian: apt-get install -y git)"
        )
    return found


@dataclass(frozen=True)
class Repo:
    """A non-bare repository: its work tree root and git directories."""

    root: Path
    git_dir: Path
    common_dir: Path
    index_file: Path  # the user's index (per worktree); only ever read, never written

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        full_env = _base_env()
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [_git_binary(), "-c", "core.quotepath=off", *args],
            cwd=self.root,
            env=full_env,
            input=input,
            capture_output=True,
        )
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
    proc = subprocess.run(
        [
            _git_binary(),
            "rev-parse",
            "--is-bare-repository",
            "--show-toplevel",
            "--absolute-git-dir",
            "--git-common-dir",
            "--git-path",
            "index",
        ],
        cwd=ws,
        env=_base_env(),
        capture_output=True,
    )
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0 or proc.stdout.startswith(b"true"):
        if "dubious ownership" in err:
            raise NotAGitRepo(
                f"git refuses {ws}: the repository is owned by another user",
                hint=f"git config --global --add safe.directory {ws.resolve()}",
            )
        raise NotAGitRepo(
            f"{ws.resolve()} is not inside a git work tree",
            hint=f"run `git init` in {ws.resolve()} (and commit once) so changes can be checkpointed and reverted",
        )
    _bare, top, git_dir, common, index = proc.stdout.decode().splitlines()[:5]
    common_path = Path(common) if os.path.isabs(common) else Path(ws, common)
    index_path = Path(index) if os.path.isabs(index) else Path(ws, index)
    return Repo(
        Path(top).resolve(), Path(git_dir).resolve(), common_path.resolve(), index_path.resolve()
    )
