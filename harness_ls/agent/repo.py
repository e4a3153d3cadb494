"""What a run asks of the repository: ranked context, and checkpoints around every change.

Both are best effort: a failure is a warning event, never a failed run. Both do blocking work
(tree-sitter, git), so they run in a thread.
"""

from __future__ import annotations

import asyncio
import os
from functools import partial
from pathlib import Path
from typing import Any


async def _warn(stream: Any, code: str, exc: BaseException, step_id: str | None = None) -> None:
    message = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
    await stream.append(
        "log", {"level": "warning", "code": code, "message": message}, step_id=step_id
    )


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
        await _warn(stream, "context.failed", exc)
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


async def take_checkpoint(
    stream: Any, workspace: Path, run_id: str, n: int, step_id: str, title: str
) -> bool:
    """Snapshot the work tree at the start of step n (`checkpoint.created`), in the shadow repo."""
    try:
        from harness_ls.workspace.checkpoints import step_checkpoint

        data = await asyncio.to_thread(
            step_checkpoint,
            _data_dir(stream),
            workspace,
            run_id,
            str(n),
            f"before step {n}: {title}",
        )
    except Exception as exc:  # noqa: BLE001 - a checkpoint failure must not fail the run
        await _warn(stream, "checkpoint.failed", exc, step_id)
        return False
    await stream.append("checkpoint.created", {**data, "step": n}, step_id=step_id)
    return True


async def finalize_checkpoints(stream: Any, workspace: Path, run_id: str) -> None:
    """The `final` checkpoint: where the run left the tree (user edits after it are theirs)."""
    try:
        from harness_ls.workspace.checkpoints import FINAL, step_checkpoint

        data = await asyncio.to_thread(
            step_checkpoint, _data_dir(stream), workspace, run_id, FINAL, "run finished"
        )
    except Exception as exc:  # noqa: BLE001
        await _warn(stream, "checkpoint.failed", exc)
        return
    await stream.append("checkpoint.created", {**data, "step": None})


def _data_dir(stream: Any) -> Path:
    """The data dir a run's stream lives in (<data>/runs/<id>/events.ndjson)."""
    return Path(stream.path).parent.parent.parent


async def run_watched(
    ctx: Any, tool: Any, args: Any, ev: dict[str, Any], tool_ctx: Any = None
) -> Any:
    """Run a tool (with `tool_ctx`, default the loop's); around a mutating call of a run or a
    chat session (unless checkpoints are off), snapshot the work tree before and after
    (`checkpoint.before` / `checkpoint.delta`, in the owner's log) so its changes, and only
    those, are the agent's."""
    tool_ctx = tool_ctx if tool_ctx is not None else ctx.tool_ctx
    if tool.kind == "read" or not ctx.checkpoints:
        return await tool.run(tool_ctx, args)
    paths = footprint(ctx.workspace, tool, args)
    before = await _snap_before(ctx, tool.name, ev, paths)
    try:
        return await tool.run(tool_ctx, args)
    finally:
        if before is not None:
            await asyncio.shield(_snap_after(ctx, before, ev, paths))


def footprint(workspace: Path, tool: Any, args: Any) -> list[str] | None:
    """The one file a write/edit call can change, relative to the real workspace root, so its
    after-snapshot re-reads just that file; None (a full snapshot) for anything else, e.g. a
    shell command, an MCP tool, or a path the tool refuses."""
    from harness_ls.tools.paths import resolve_path

    raw = getattr(args, "path", None)
    if tool.kind != "write" or not isinstance(raw, str):
        return None
    try:
        real = resolve_path(Path(workspace), raw, for_write=True)
    except Exception:  # noqa: BLE001 - refused paths changed nothing; the full walk decides
        return None
    root = os.path.realpath(workspace)
    return [Path(os.path.relpath(real, root)).as_posix()]


async def harness_write(
    stream: Any,
    workspace: Path,
    name: str,
    step_id: str | None,
    fn: Any,
    *args: Any,
    checkpoints: bool = True,
) -> Any:
    """Run `fn(*args)` in a thread as a write the harness makes for the run (diagram rendering,
    link fixing), snapshotted like a tool call so its files count as the run's, not the user's.
    Not snapshotted when the run's checkpoints are off."""
    if not checkpoints:
        return await asyncio.to_thread(fn, *args)
    from types import SimpleNamespace

    from harness_ls.agent.ids import new_id

    ctx = SimpleNamespace(stream=stream, workspace=workspace, owner_id=stream.id)
    ev = {"call_id": new_id("call"), "step_id": step_id}
    before = await _snap_before(ctx, name, ev)
    try:
        return await asyncio.to_thread(fn, *args)
    finally:
        if before is not None:
            await asyncio.shield(_snap_after(ctx, before, ev))


async def _snap_before(
    ctx: Any, name: str, ev: dict[str, Any], paths: list[str] | None = None
) -> dict[str, Any] | None:
    from harness_ls.workspace.checkpoints import call_before

    try:
        data = await asyncio.to_thread(
            partial(call_before, paths=paths), _data_dir(ctx.stream), ctx.workspace, ctx.owner_id
        )
    except Exception as exc:  # noqa: BLE001 - the call still runs; its changes go unattributed
        await _warn(ctx.stream, "checkpoint.failed", exc, ev.get("step_id"))
        return None
    data["tool"] = name
    await ctx.stream.append("checkpoint.before", data, **ev)
    return data


async def _snap_after(
    ctx: Any, before: dict[str, Any], ev: dict[str, Any], paths: list[str] | None = None
) -> None:
    from harness_ls.workspace.checkpoints import call_after

    try:
        data = await asyncio.to_thread(
            partial(call_after, paths=paths),
            _data_dir(ctx.stream),
            ctx.workspace,
            ctx.owner_id,
            before,
        )
    except Exception as exc:  # noqa: BLE001 - recorded as unfinished: resolved conservatively
        await _warn(ctx.stream, "checkpoint.failed", exc, ev.get("step_id"))
        return
    await ctx.stream.append("checkpoint.delta", {**data, "tool": before.get("tool")}, **ev)


INSTRUCTION_FILES = ("AGENTS.md",)
INSTRUCTIONS_CAP = 16_000  # characters


def project_instructions(workspace: Path) -> str:
    """The workspace's AGENTS.md (how to build, test, style), for the system prompt; "" if none."""
    for name in INSTRUCTION_FILES:
        path = workspace / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if text:
            cut = "\n[… cut]" if len(text) > INSTRUCTIONS_CAP else ""
            return f"Project instructions ({name}):\n{text[:INSTRUCTIONS_CAP]}{cut}"
    return ""
