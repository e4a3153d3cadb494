"""SafeGit: one way to start git — explicit dirs, safe config, built environment, safe flags.

Every argv is `git --no-pager [--git-dir D] [--work-tree W] [caller's -c ...] <SAFE_CONFIG -c
...> <subcommand> <injected flags> <caller's args>`: our `-c` come after the caller's so they
win; a caller cannot pass another global option (-C, --git-dir, --exec-path...). Diff-producing
subcommands get `--no-ext-diff --no-textconv`; those that compare the work tree get
`--ignore-submodules=dirty`, which keeps git from starting `git status` inside a nested
repository (whose own config would then apply), while a nested repository's moved HEAD still
shows.
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness_ls.gitrun.env import git_binary, safe_config, safe_env

DIFF_FAMILY = frozenset({"diff", "diff-files", "diff-index", "diff-tree", "log", "show"})
WORKTREE_DIFF = frozenset({"status", "diff", "diff-files", "diff-index"})
# What the caller's env may not set: the runner's choice of repository and config stands.
PINNED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")
DEFAULT_TIMEOUT = 600.0  # a FIFO or a device planted as a git file cannot hang us forever


def split_args(args: tuple[str, ...] | list[str]) -> tuple[list[str], list[str]]:
    """(caller's leading `-c k=v` pairs, subcommand + injected flags + the rest)."""
    pre: list[str] = []
    i = 0
    while i < len(args) and args[i] == "-c" and i + 1 < len(args):
        pre += ["-c", args[i + 1]]
        i += 2
    if i < len(args) and args[i].startswith("-"):
        raise ValueError(f"global git option {args[i]!r}: the runner chooses the repository")
    if i == len(args):
        return pre, []
    sub, rest = args[i], list(args[i + 1 :])
    extra: list[str] = []
    if sub in DIFF_FAMILY:
        extra += ["--no-ext-diff", "--no-textconv"]
    if sub in WORKTREE_DIFF:
        extra.append("--ignore-submodules=dirty")
    return pre, [sub, *extra, *rest]


@dataclass(frozen=True)
class SafeGit:
    """How to run git on one repository (or on none, for `version` and `init`)."""

    git_dir: Path | None = None
    work_tree: Path | None = None
    common_dir: Path | None = None  # GIT_COMMON_DIR: the config shim of a workspace repository
    cwd: Path | None = None

    def argv(self, *args: str) -> list[str]:
        pre, rest = split_args(args)
        out = [git_binary(), "--no-pager"]
        if self.git_dir is not None:
            out.append(f"--git-dir={self.git_dir}")
        if self.work_tree is not None:
            out.append(f"--work-tree={self.work_tree}")
        return [*out, *pre, *safe_config(), *rest]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        where = self.where()
        env = safe_env(where.parent if where is not None and where.parent != where else None)
        if extra:
            env.update({k: v for k, v in extra.items() if k not in PINNED})
        if self.common_dir is not None:
            env["GIT_COMMON_DIR"] = str(self.common_dir)
        return env

    def where(self) -> Path | None:
        return self.cwd or self.work_tree or self.git_dir

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run to the end, output captured; a non-zero exit is the caller's to judge."""
        return subprocess.run(
            self.argv(*args),
            cwd=self.where() or "/",
            env=self.env(env),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Started with stdout/stderr piped and no stdin, for commands run side by side."""
        return subprocess.Popen(
            self.argv(*args),
            cwd=self.where() or "/",
            env=self.env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    async def arun(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        limit_s: float | None = DEFAULT_TIMEOUT,
    ) -> tuple[int, bytes, bytes]:
        """(exit code, stdout, stderr) without blocking the event loop; killed on timeout."""
        import asyncio  # here: the synchronous callers (a context build) skip its ~40 ms import

        proc = await asyncio.create_subprocess_exec(
            *self.argv(*args),
            cwd=self.where() or "/",
            env=self.env(env),
            stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(limit_s):
                out, err = await proc.communicate(input)
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        return proc.returncode or 0, out, err


def standalone() -> SafeGit:
    """git outside any repository (run from `/`): `version`, `init <absolute path>`."""
    return SafeGit(cwd=Path("/"))
