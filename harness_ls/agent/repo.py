"""What a run asks of the repository: ranked context for the prompts, whether it is a git work
tree, and its AGENTS.md. Context is best effort: a failure is a warning event, never a failed
run; tree-sitter work runs in a thread. Checkpoints live in checkpoints.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path
from typing import Any

from harness_ls.agent.checkpoints import warn

log = logging.getLogger(__name__)


async def is_git_work_tree(ws: Path) -> bool:
    """Whether `ws` is inside a git work tree, as harness_ls.gitrun finds repositories (no git
    process: a bare layout or a `.git` leading back into the workspace is not one)."""
    from harness_ls.gitrun import repo_or_none

    return await asyncio.to_thread(repo_or_none, ws) is not None


PLAIN_DIR_NOTE = (
    "workspace {ws} is not a git repository: checkpoints, `agentctl diff` and `revert` still "
    "work (a shadow repository under the data dir), but the git_diff tool and the docs step's "
    "relinking of changed docs are unavailable; run `git init` in it to have them"
)


async def note_plain_dir(stream: Any, workspace: Path) -> bool:
    """Say once, in the log, what a run in a plain directory goes without; True when it did."""
    if await is_git_work_tree(workspace):
        return False
    await stream.append(
        "log",
        {
            "level": "warning",
            "code": "workspace.not_git",
            "message": PLAIN_DIR_NOTE.format(ws=workspace),
        },
    )
    return True


async def repo_context(
    stream: Any,
    workspace: Path,
    task: str,
    budget: int,
    data_dir: Path | None,
    *,
    exclude: list[str] | None = None,
    prefer: list[str] | None = None,
) -> str:
    """The ranked repo map + excerpts for the task (`context.built`), or "" when unavailable.
    `exclude`: never shown (the run's spec); `prefer`: ranked first (the model's picks)."""
    if budget <= 0:
        return ""
    try:
        from harness_ls.context import build_context

        res = await asyncio.to_thread(
            build_context, workspace, task, budget,
            data_dir=data_dir, exclude=exclude, prefer=prefer,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the run works without context, only less well
        await warn(stream, "context.failed", exc)
        return ""
    data = {"files": res.files[:100], "tokens": res.tokens, "budget": budget}
    data.update(excerpt_files=res.excerpt_files[:50], notes=res.notes[:20])
    if prefer:
        data["preferred"] = prefer
    await stream.append("context.built", data)
    from harness_ls.models import mask_secrets

    return mask_secrets(res.text)  # excerpts may quote a .env file


async def run_context(engine: Any) -> str:
    """A run's context: for its goal and spec, without the spec itself, the files its model
    picked from the ranked map first (agent/localize.py) when localization is on."""
    from harness_ls.agent.localize import run_picks
    from harness_ls.agent.plan import goal_summary

    goal, _ = goal_summary(engine.spec_text)
    task = f"{goal}\n{engine.spec_text}"
    exclude = spec_relpath(engine.workspace, engine.spec_path)
    return await repo_context(
        engine.stream,
        engine.workspace,
        task,
        engine.options.context_tokens,
        engine.harness.data_dir,
        exclude=exclude,
        prefer=await run_picks(engine, task, exclude),
    )


def spec_relpath(workspace: Path, spec_path: str) -> list[str]:
    """The run's spec as a workspace-relative path, for `exclude` ([] when it lives outside)."""
    path = Path(spec_path)
    path = path if path.is_absolute() else workspace / path
    try:
        return [path.resolve().relative_to(workspace.resolve()).as_posix()]
    except (ValueError, OSError):
        return []


INSTRUCTION_FILES = ("AGENTS.md",)
INSTRUCTIONS_CAP = 16_000  # characters


def project_instructions(workspace: Path) -> str:
    """The workspace's AGENTS.md (how to build, test, style), for the system prompt; "" if none.

    Read outside every tool, so only as a tool would read it unasked: a regular file whose real
    path is inside the workspace and no secret file (a cloned repository's `AGENTS.md -> .env`
    put the keys in the prompt), opened non-blocking and read up to the cap (`-> /dev/zero`
    filled memory, `-> /dev/stdin` or a FIFO hung the host). Anything else is skipped with a
    warning on the host's log naming the file and why."""
    for name in INSTRUCTION_FILES:
        text, why = _instructions_text(workspace, name)
        if why is not None:
            log.warning("%s in %s not read: %s", name, workspace, why)
        if text:
            cut = "\n[… cut]" if len(text) > INSTRUCTIONS_CAP else ""
            return f"Project instructions ({name}):\n{text[:INSTRUCTIONS_CAP]}{cut}"
    return ""


def _instructions_text(workspace: Path, name: str) -> tuple[str, str | None]:
    """(the file's text, stripped; why it was not read or None)."""
    from harness_ls.tools.protected import secret_reason

    path = workspace / name
    if not os.path.lexists(path):
        return "", None
    root = workspace.resolve()
    real = path.resolve()
    if not real.is_relative_to(root):
        return "", f"it leads outside the workspace (to {real})"
    why = secret_reason(real.relative_to(root).as_posix())
    if why is not None:
        return "", f"it is {real.relative_to(root)}, {why}"
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return "", f"cannot open it: {exc.strerror}"
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "", "it is not a regular file"
        data = fh.read(INSTRUCTIONS_CAP * 4 + 1)
    return data.decode("utf-8", errors="replace").strip(), None
