"""What a run asks of the repository: ranked context for the prompts, and git checkpoints.

Both are best effort: a failure is a warning event, never a failed run. Both do blocking work
(tree-sitter, git), so they run in a thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any


async def _warn(stream: Any, code: str, exc: BaseException, step_id: str | None = None) -> None:
    message = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
    await stream.append(
        "log", {"level": "warning", "code": code, "message": message}, step_id=step_id
    )


async def repo_context(
    stream: Any, workspace: Path, task: str, budget: int, data_dir: Path | None
) -> str:
    """The ranked repo map + excerpts for the task (`context.built`), or "" when unavailable."""
    if budget <= 0:
        return ""
    try:
        from harness_ls.context import build_context

        res = await asyncio.to_thread(build_context, workspace, task, budget, data_dir=data_dir)
    except Exception as exc:  # noqa: BLE001 - the run works without context, only less well
        await _warn(stream, "context.failed", exc)
        return ""
    await stream.append(
        "context.built",
        {"files": res.files[:100], "tokens": res.tokens, "budget": budget, "notes": res.notes[:20]},
    )
    from harness_ls.models import mask_secrets

    return mask_secrets(res.text)  # excerpts may quote a .env file


async def take_checkpoint(
    stream: Any, workspace: Path, run_id: str, n: int, step_id: str, title: str
) -> bool:
    """Snapshot the working tree as checkpoint n, taken before step n (`checkpoint.created`)."""
    try:
        from harness_ls.workspace import checkpoint

        cp = await asyncio.to_thread(checkpoint, workspace, run_id, n, f"before step {n}: {title}")
    except Exception as exc:  # noqa: BLE001 - a checkpoint failure must not fail the run
        await _warn(stream, "checkpoint.failed", exc, step_id)
        return False
    await stream.append("checkpoint.created", _data(cp, n), step_id=step_id)
    return True


async def finalize_checkpoints(stream: Any, workspace: Path, run_id: str) -> None:
    """The `final` checkpoint: where the run left the tree (diffs of the last step end here)."""
    try:
        from harness_ls.workspace import finalize

        cp = await asyncio.to_thread(finalize, workspace, run_id)
    except Exception as exc:  # noqa: BLE001
        await _warn(stream, "checkpoint.failed", exc)
        return
    await stream.append("checkpoint.created", _data(cp, None))


def _data(cp: Any, n: int | None) -> dict[str, Any]:
    return {
        "commit": cp.commit,
        "message": cp.message,
        "name": cp.name,
        "step": n,
        "ref": cp.ref,
        "dirty": cp.dirty,
        "skipped": [s.path for s in cp.skipped],
        "warnings": list(cp.warnings),
    }


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
