"""The one way harness-ls runs git: safe on a hostile repository.

Every git command the harness itself issues — checkpoints, diff and revert, context, the
git_diff tool, the run summary, `init`, `doctor` — goes through `SafeGit` (tests/test_git_runner.py
fails on any that does not):
- the repository is found by harness-ls (find.py), never by git: a directory never becomes a
  repository because HEAD, config, objects/ and refs/ appeared in it, and a `.git` file or
  symlink may not lead back into the workspace;
- git gets that repository as explicit --git-dir/--work-tree, and a config shim as its common
  dir (shim.py), so the repository's own config — and every program it names — is never read;
- safe `-c` settings, safe flags and a built environment (env.py, runner.py) cover the rest:
  no hooks, fsmonitor, pager, external diff, textconv, credential helper, transport, signing
  program, nested-repository status, system or global config, or GIT_* from the caller.
Our own shadow repositories (under the data dir) are run the same way, minus the shim.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness_ls.gitrun.env import SAFE_CONFIG, git_available, git_binary, safe_env
from harness_ls.gitrun.find import (
    NoRepository,
    NotAGitRepo,
    RepoLocation,
    UnsafeRepository,
    find_repo,
    repo_at,
    repo_or_none,
)
from harness_ls.gitrun.runner import SafeGit, standalone
from harness_ls.gitrun.shim import config_shim


def repo_git(loc: RepoLocation, cwd: str | os.PathLike[str] | None = None) -> SafeGit:
    """git on a workspace repository already found (`cwd`: where relative paths start)."""
    return SafeGit(
        git_dir=loc.git_dir,
        work_tree=loc.work_tree,
        common_dir=config_shim(loc.common_dir),
        cwd=Path(os.path.realpath(cwd)) if cwd is not None else loc.work_tree,
    )


def workspace_git(workspace: str | os.PathLike[str]) -> SafeGit:
    """git on the repository `workspace` lies in, run from `workspace`; NotAGitRepo if none."""
    return repo_git(find_repo(workspace), workspace)


def own_git(
    git_dir: str | os.PathLike[str], work_tree: str | os.PathLike[str] | None = None
) -> SafeGit:
    """git on a repository harness-ls created itself (a shadow repository: its config is ours)."""
    tree = Path(work_tree) if work_tree is not None else None
    return SafeGit(git_dir=Path(git_dir), work_tree=tree, cwd=tree or Path(git_dir))


def git_version() -> str:
    """`git version x.y.z`, or "" when git is missing or fails."""
    try:
        proc = standalone().run("version", timeout=10)
    except (OSError, ValueError, Exception):  # noqa: BLE001 - doctor reports, never raises
        return ""
    return proc.stdout.decode(errors="replace").strip()


__all__ = [
    "SAFE_CONFIG",
    "NoRepository",
    "NotAGitRepo",
    "RepoLocation",
    "SafeGit",
    "UnsafeRepository",
    "config_shim",
    "find_repo",
    "git_available",
    "git_binary",
    "git_version",
    "own_git",
    "repo_at",
    "repo_git",
    "repo_or_none",
    "safe_env",
    "standalone",
    "workspace_git",
]
