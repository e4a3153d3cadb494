"""Background tasks of the language server, kept and watched.

asyncio holds only a weak reference to a task: a fire-and-forget one can be collected mid-run,
and its exception is reported (if ever) as "Task exception was never retrieved". `spawn` keeps a
strong reference until the task ends and logs a failure through logging (stderr, never
stdout) with what the task was for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("harness_ls.lsp.tasks")

_RUNNING: set[asyncio.Task[Any]] = set()


def spawn(work: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
    """Run `work` in the background; `what` names it in the log if it fails."""
    task = asyncio.ensure_future(work)
    _RUNNING.add(task)
    task.add_done_callback(lambda done: _finished(done, what))
    return task


def _finished(task: asyncio.Task[Any], what: str) -> None:
    _RUNNING.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.warning("background task failed (%s): %s", what, exc, exc_info=exc)


def running() -> int:
    """How many spawned tasks have not ended (tests)."""
    return len(_RUNNING)
