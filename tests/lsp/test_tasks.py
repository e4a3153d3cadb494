"""Background tasks of the language server are kept until they end and their failures logged."""

from __future__ import annotations

import asyncio
import logging

from harness_ls.lsp import tasks


async def test_a_failing_background_task_is_logged_with_what_it_was_for(caplog):
    async def boom() -> None:
        raise RuntimeError("sidecar port taken")

    async def fine() -> str:
        return "ok"

    before = tasks.running()
    with caplog.at_level(logging.WARNING, logger="harness_ls.lsp.tasks"):
        bad, good = tasks.spawn(boom(), "start the sidecar"), tasks.spawn(fine(), "fine")
        assert tasks.running() == before + 2
        await asyncio.gather(bad, good, return_exceptions=True)
        await asyncio.sleep(0)  # done callbacks run on the next loop iteration
    assert tasks.running() == before
    assert [r.getMessage() for r in caplog.records] == [
        "background task failed (start the sidecar): sidecar port taken"
    ]


async def test_a_cancelled_background_task_is_not_an_error(caplog):
    with caplog.at_level(logging.WARNING, logger="harness_ls.lsp.tasks"):
        task = tasks.spawn(asyncio.sleep(10), "wait")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)
    assert caplog.records == []
