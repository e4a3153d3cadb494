"""Which repository a workspace belongs to, decided by harness-ls, never by git's discovery.

git's own discovery takes a directory holding HEAD, config, objects/ and refs/ for a (bare)
repository, follows a `.git` file to any `gitdir:`, and honours GIT_DIR: in a workspace the
agent can write, each lets files that appeared there make a repository whose config git then
obeys. Here:
- only an entry named `.git` makes a repository, looked for from the workspace upwards
  (stopping at a file-system boundary and at the user's GIT_CEILING_DIRECTORIES); a bare layout
  (HEAD, config, objects/, refs/ at the workspace root) never does;
- `.git` may be a directory, a `gitdir:` file or a symlink (linked worktrees, submodules), but
  the git directory it leads to and its common directory must not lie inside the workspace,
  where the agent can write them (the sandbox keeps only a real `<workspace>/.git` read-only);
- the work tree and the git directory must belong to the current user, unless the user's
  global `safe.directory` lists the work tree (git's own rule since 2.35.2).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from harness_ls.errors import InvalidInput
from harness_ls.gitrun.env import user_settings

GITFILE_MAX = 4096


class NotAGitRepo(InvalidInput):
    code = "not_a_git_repo"


class NoRepository(NotAGitRepo):
    """No `.git` from the workspace upwards: a plain directory."""


class UnsafeRepository(NotAGitRepo):
    """A `.git` that would let files the agent can write act as the repository."""

    code = "unsafe_repository"


@dataclass(frozen=True)
class RepoLocation:
    """A non-bare repository as found: all three paths are real (symlinks resolved)."""

    work_tree: Path  # the directory holding `.git`
    git_dir: Path  # per-worktree files: HEAD, index
    common_dir: Path  # objects, refs, config (the config is never handed to git: shim.py)


def find_repo(start: str | os.PathLike[str]) -> RepoLocation:
    """The repository `start` lies in; NotAGitRepo (or UnsafeRepository) saying why not."""
    ws = Path(os.path.realpath(start))
    if not ws.is_dir():
        raise InvalidInput(
            f"workspace {start} is not a directory", hint="pass an existing directory"
        )
    ceilings = _ceilings()
    across = os.environ.get("GIT_DISCOVERY_ACROSS_FILESYSTEM", "").lower() in ("1", "true", "yes")
    d, dev = ws, os.stat(ws).st_dev
    while True:
        loc = _at(d, ws)
        if loc is not None:
            _check_owner(loc)
            return loc
        parent = d.parent
        if parent == d or str(parent) in ceilings:
            break
        try:
            if not across and os.stat(parent).st_dev != dev:
                break
        except OSError:
            break
        d = parent
    raise NoRepository(f"{ws} is not inside a git work tree", hint=f"run `git init` in {ws}")


def repo_or_none(start: str | os.PathLike[str]) -> RepoLocation | None:
    """find_repo, with None for a plain directory or a repository refused as unsafe."""
    try:
        return find_repo(start)
    except InvalidInput:
        return None


def repo_at(root: str | os.PathLike[str]) -> RepoLocation | None:
    """The repository whose `.git` is directly in `root` (no search upwards, no ownership
    check: for reading its info/exclude), None for none or one refused as unsafe."""
    real = Path(os.path.realpath(root))
    try:
        return _at(real, real)
    except InvalidInput:
        return None


def _ceilings() -> set[str]:
    raw = os.environ.get("GIT_CEILING_DIRECTORIES", "")
    return {os.path.realpath(p) for p in raw.split(":") if os.path.isabs(p)}


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _at(d: Path, ws: Path) -> RepoLocation | None:
    """The repository whose `.git` is in directory `d`, None when `d` has no usable `.git`."""
    dotgit = d / ".git"
    try:
        st = os.lstat(dotgit)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        git_dir = dotgit
        common = _common_dir(git_dir)
        if not _is_git_dir(git_dir, common):
            return None  # like git: an empty or broken .git directory is passed over
    elif stat.S_ISLNK(st.st_mode) or stat.S_ISREG(st.st_mode):
        link = stat.S_ISLNK(st.st_mode)
        git_dir = Path(os.path.realpath(dotgit)) if link else _read_gitfile(dotgit)
        common = _common_dir(git_dir)
        if not _is_git_dir(git_dir, common):
            what = "a symbolic link to" if link else "a gitdir file naming"
            raise NotAGitRepo(
                f"{dotgit} is {what} {git_dir}, which is not a git directory",
                hint=f"remove {dotgit} or point it at the repository's git directory",
            )
    else:
        return None
    for path, what in ((git_dir, "git directory"), (common, "common git directory")):
        protected = stat.S_ISDIR(st.st_mode) and _inside(path, dotgit)
        if _inside(path, ws) and not protected:
            raise UnsafeRepository(
                f"the {what} of {d} is {path}, inside the workspace where the agent can write "
                "it; harness-ls does not run git on such a repository",
                hint=f"keep the repository's git directory in {dotgit} itself or outside {ws}",
            )
    return RepoLocation(d, git_dir, common)


def _read_gitfile(path: Path) -> Path:
    """The directory a `.git` file names (`gitdir: <path>`, relative to the file's directory)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(GITFILE_MAX + 1)
    except OSError as exc:
        raise NotAGitRepo(f"cannot read {path}: {exc.strerror}") from None
    text = raw.decode(errors="surrogateescape")
    if len(raw) > GITFILE_MAX or not text.startswith("gitdir: "):
        raise NotAGitRepo(f"{path} is not a gitdir file (`gitdir: <path>`)", hint=f"remove {path}")
    target = Path(text[len("gitdir: ") :].rstrip("\r\n\t "))
    return Path(os.path.realpath(target if target.is_absolute() else path.parent / target))


def _is_git_dir(git_dir: Path, common: Path) -> bool:
    """git's own test (setup.c is_git_directory): HEAD, and objects/ and refs/ in the common dir."""
    head = git_dir / "HEAD"
    try:
        st = os.lstat(head)
        if stat.S_ISLNK(st.st_mode):
            if not os.readlink(head).startswith("refs/"):
                return False
        elif not stat.S_ISREG(st.st_mode):
            return False
        return (common / "objects").is_dir() and (common / "refs").is_dir()
    except OSError:
        return False


def _common_dir(git_dir: Path) -> Path:
    """A linked worktree's git dir names its common dir in `commondir`; else it is its own."""
    try:
        with open(git_dir / "commondir", "rb") as fh:
            raw = fh.read(GITFILE_MAX).decode(errors="surrogateescape").strip()
    except OSError:
        return git_dir
    if not raw:
        return git_dir
    target = Path(raw)
    return Path(os.path.realpath(target if target.is_absolute() else git_dir / target))


def _check_owner(loc: RepoLocation) -> None:
    """git's `dubious ownership` rule, so a repository planted in a shared directory by another
    user is not taken for ours (an explicit --git-dir would skip git's own check)."""
    uid = os.geteuid()
    sudo = os.environ.get("SUDO_UID", "") if uid == 0 else ""

    def mine(path: Path) -> bool:
        try:
            owner = os.stat(path).st_uid
        except OSError:
            return False
        return owner == uid or (sudo.isdigit() and owner == int(sudo))

    if mine(loc.work_tree) and mine(loc.git_dir):
        return
    listed: list[str] = []
    for value in user_settings().get("safe_dirs") or []:  # type: ignore[union-attr]
        listed = [] if value == "" else [*listed, value]
    here = str(loc.work_tree)
    if any(v == "*" or os.path.realpath(os.path.expanduser(v)) == here for v in listed):
        return
    raise NotAGitRepo(
        f"git refuses {loc.work_tree}: the repository is owned by another user",
        hint=f"git config --global --add safe.directory {loc.work_tree}",
    )
