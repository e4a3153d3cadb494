"""Where per-call checkpoints apply: off when `checkpoints` is False, in a plain (non-git)
directory through the shadow repo, and around a chat session's mutating tool calls."""

from __future__ import annotations

import json

from harness_ls.testing.greet import DOCS, DONE

from .conftest import events, next_approval, script

PLAN1 = {"text": json.dumps({"steps": [{"title": "Write hello into greet.txt", "spec_line": 2}]})}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


async def test_checkpoints_off_takes_no_snapshot_at_all(harness, repo, tmp_path):
    harness.options["checkpoints"] = False
    name = script(tmp_path, PLAN1, write("greet.txt", "hello\n"), DONE, DOCS)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=name)
    await harness.answer_approval((await next_approval(harness, meta.id)).id, "approve", "cli")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    assert (repo / "greet.txt").read_text() == "hello\n"
    kinds = {e.type for e in events(harness, meta.id)}
    assert not {k for k in kinds if k.startswith("checkpoint.")}, kinds
    assert not (harness.data_dir / "checkpoints").exists()
