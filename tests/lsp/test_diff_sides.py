"""harness.diffContents gives both sides of a pending write, for editors with a two-sided diff
view (VS Code opens them as `harness-diff:` documents in its diff editor); the patch file of
harness.showDiff stays the fallback. And a cancelled run says so, with who and where.
pytest-lsp, scripted model, real git repo."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException

from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE
from harness_ls.tools.diffapply import apply_unified_diff
from harness_ls.tools.textfile import unified_diff
from tests.lsp.test_approval_channels import (
    CREATE,
    ended,
    harness_diags,
    lsp,
    push_caps,
    run,
    start,
)
from tests.lsp.test_runs import wait_for

__all__ = ["lsp"]


async def contents(client, approval_id: str):
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.diffContents", arguments=[approval_id])
    )


async def pending_id(client) -> str:
    diags = await wait_for(lambda: harness_diags(client, client.spec_uri), 60)
    return diags[0].data["approval_id"]


async def test_both_sides_of_an_overwrite_then_of_a_new_file(lsp, tmp_path):
    await start(lsp, tmp_path, push_caps(), [PLAN, WRITE, CREATE, DONE, DOCS])
    await run(lsp)
    first = await pending_id(lsp)
    sides = await contents(lsp, first)
    assert sides == {
        "id": first,
        "path": "greet.txt",
        "isNew": False,
        "before": "hi\n",
        "after": "hello\n",
    }
    assert (lsp.ws / "greet.txt").read_text() == "hi\n"  # showing it wrote nothing
    await lsp.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.approve", arguments=[first])
    )
    second = await wait_for(
        lambda: [d for d in harness_diags(lsp, lsp.spec_uri) if d.data["approval_id"] != first],
        60,
    )
    new_id = second[0].data["approval_id"]
    sides = await contents(lsp, new_id)
    assert (sides["path"], sides["isNew"], sides["before"], sides["after"]) == (
        "new.txt",
        True,
        "",
        "new\n",
    )
    await lsp.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.deny", arguments=[new_id])
    )
    await ended(lsp)
    with pytest.raises(JsonRpcException, match="no longer pending"):
        await contents(lsp, new_id)


async def test_a_file_changed_since_the_preview_gives_no_sides(lsp, tmp_path):
    await start(lsp, tmp_path, push_caps(), [PLAN, WRITE, DONE, DOCS])
    await run(lsp)
    aid = await pending_id(lsp)
    (lsp.ws / "greet.txt").write_text("changed meanwhile\n")
    assert await contents(lsp, aid) is None  # the client shows the patch instead


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "new\n"),
        ("hi\n", "hello\n"),
        ("a\nb\nc", "a\nB\nc\n"),
        ("x\ny\n", "x\ny"),
        ("".join(f"{i}\n" for i in range(40)), "".join(f"{i}\n" for i in range(3, 45) if i != 20)),
    ],
)
def test_apply_unified_diff_round_trips_the_tools_diffs(before, after):
    diff = unified_diff(before, after, "f.txt", is_new=not before)
    assert apply_unified_diff(before, diff) == after


def test_apply_unified_diff_refuses_what_does_not_match():
    diff = unified_diff("a\nb\nc\n", "a\nB\nc\n", "f.txt")
    assert apply_unified_diff("a\nX\nc\n", diff) is None
    assert apply_unified_diff("a\n", diff) is None
    assert apply_unified_diff("a\nb\nc\n", "not a diff") is None
    assert apply_unified_diff("a\nb\nc\n", diff[: diff.index("@@") + 4]) is None


@pytest.mark.parametrize("shows_run_ends", [False, True])
async def test_a_cancelled_run_says_who_and_where_once(lsp, tmp_path, shows_run_ends):
    """Generic clients get a window/showMessage; a client that renders harness/runStatus itself
    (the VS Code extension, `experimental.harnessRunNotifications`) gets none, so one message."""
    caps = push_caps()
    if shows_run_ends:
        caps.experimental = {"harnessRunNotifications": True}
    await start(lsp, tmp_path, caps, [PLAN, WRITE, DONE, DOCS])
    run_id = await run(lsp)
    await pending_id(lsp)
    await lsp.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.cancelRun", arguments=[run_id])
    )
    end = (await ended(lsp))[-1].message
    assert end.startswith("cancelled: from the editor while waiting for approval: "), end
    if not shows_run_ends:
        await wait_for(lambda: [m for m in lsp.messages if "cancelled" in m.message])
    await lsp.workspace_execute_command_async(  # a round trip: anything sent before has arrived
        t.ExecuteCommandParams(command="harness.showRun", arguments=[run_id])
    )
    said = [m.message for m in lsp.messages if m.message.startswith("harness: greet")]
    assert said == ([] if shows_run_ends else [f"harness: greet {end}"])
