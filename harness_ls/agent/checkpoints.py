"""Checkpoints around every change a run or session makes: one before each step, a `final`
one, and a snapshot before and after each mutating call so its changes, and only those, are
the agent's. Best effort: a failure is a warning event, never a failed run. The work (git) is
blocking, so it runs in a thread. Split from repo.py (ranked context), which loop.py need not
know.
"""

from __future__ import annotations

import asyncio
import os
from functools import partial
from pathlib import Path
from typing import Any


async def warn(stream: Any, code: str, exc: BaseException, step_id: str | None = None) -> None:
    message = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
    await stream.append(
        "log", {"level": "warning", "code": code, "message": message}, step_id=step_id
    )


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
        await warn(stream, "checkpoint.failed", exc, step_id)
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
        await warn(stream, "checkpoint.failed", exc)
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
        await warn(ctx.stream, "checkpoint.failed", exc, ev.get("step_id"))
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
        await warn(ctx.stream, "checkpoint.failed", exc, ev.get("step_id"))
        return
    await ctx.stream.append("checkpoint.delta", {**data, "tool": before.get("tool")}, **ev)
