"""git_diff: what the run changed in the working tree (staged + unstaged vs HEAD, plus new files)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import Field

from harness_ls.errors import InvalidInput
from harness_ls.gitrun import NoRepository, NotAGitRepo, SafeGit, workspace_git
from harness_ls.tools.base import Tool, ToolArgs, ToolContext, ToolResult, cut_middle
from harness_ls.tools.paths import data_dir_rel, refuse_data_dir, rel_posix, resolve_path

UNTRACKED_MAX_BYTES = 1_000_000


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


class GitDiffArgs(ToolArgs):
    paths: list[str] = Field(default_factory=list, description="Limit the diff to these paths.")
    include_untracked: bool = Field(True, description="Also show new files git does not track yet.")


async def _git(git: SafeGit, *args: str) -> tuple[int, str, str]:
    code, out, err = await git.arun(*args, limit_s=60)
    return code, out.decode("utf-8", errors="replace"), err.decode(errors="replace")


async def working_tree_diff(
    workspace: Path,
    paths: list[str] | None = None,
    *,
    include_untracked: bool = True,
    data_dir: Path | None = None,
) -> str:
    """Unified diff of the working tree against HEAD (or the index before the first commit).
    The data dir, when the workspace holds it, is left out (tools never read it)."""
    reals = [resolve_path(workspace, p, for_write=False) for p in paths or []]
    for real in reals:
        refuse_data_dir(workspace, real, data_dir)
    rels = [rel_posix(workspace, real) for real in reals]
    if (hidden := data_dir_rel(workspace, data_dir)) is not None:
        rels.append(f":(top,exclude){hidden}")
    try:
        git = await asyncio.to_thread(workspace_git, workspace)
    except NoRepository:
        raise InvalidInput(
            f"{workspace} is not a git repository", hint="run `git init` there to see diffs"
        ) from None
    except NotAGitRepo as exc:  # refused: a `.git` leading into the workspace, another owner
        raise InvalidInput(f"no git diff: {exc.message}", hint=exc.hint) from None
    has_head = (await _git(git, "rev-parse", "--verify", "-q", "HEAD"))[0] == 0
    base = ["diff", "--no-color", "--no-ext-diff", "--relative"]
    if has_head:
        base.append("HEAD")
    code, out, err = await _git(git, *base, "--", *rels)
    if code != 0:
        raise InvalidInput(f"git diff failed: {err.strip()}")
    parts = [out]
    if include_untracked:
        _, listing, _ = await _git(
            git, "ls-files", "--others", "--exclude-standard", "-z", "--", *rels
        )
        for name in filter(None, listing.split("\0")):
            size = _size(workspace / name)
            if size > UNTRACKED_MAX_BYTES:
                parts.append(f"diff --git a/{name} b/{name}\nnew file ({size} bytes, not shown)\n")
                continue
            _, extra, _ = await _git(
                git, "diff", "--no-color", "--no-index", "--", "/dev/null", name
            )
            parts.append(extra)
    return "".join(parts)


class GitDiff(Tool):
    name = "git_diff"
    kind = "read"
    description = (
        "Show the workspace's uncommitted changes as a unified diff (against HEAD, including new "
        "untracked files); optionally only for some paths."
    )
    Args = GitDiffArgs

    async def _run(self, ctx: ToolContext, args: GitDiffArgs) -> ToolResult:
        diff = await working_tree_diff(
            ctx.workspace, args.paths, include_untracked=args.include_untracked,
            data_dir=ctx.data_dir,
        )  # fmt: skip
        files = diff.count("\ndiff --git ") + (1 if diff.startswith("diff --git ") else 0)
        out, cut = cut_middle(diff, ctx.output_cap)
        return ToolResult(
            ok=True,
            output=out or "no changes",
            data={"files": files, "cut_chars": cut},
        )
