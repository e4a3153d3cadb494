"""The store masks secrets in every event it writes or publishes (the last line of defence)."""

from __future__ import annotations

from harness_ls.secrets import register_secret
from harness_ls.store import RunStore


async def test_secret_values_never_reach_the_log_or_subscribers(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefghijkl")
    register_secret("hunter2-token-value")
    store = RunStore(tmp_path)
    meta = store.create_run(
        workspace=str(tmp_path), spec_path="specs/x/spec.md", spec_text="# Goal\n"
    )
    stream = store.stream("run", meta.id)
    ev = await stream.append(
        "log",
        {
            "message": "key=sk-test-0123456789abcdefghijkl tok hunter2-token-value",
            "n": [1, "hunter2-token-value"],
        },
    )
    await stream.append("run.completed", {"outcome": "Bearer abcdefghijklmnopqrstuvwxyz used"})
    await stream.close()
    raw = (tmp_path / "runs" / meta.id / "events.ndjson").read_text()
    assert "sk-test-0123456789abcdefghijkl" not in raw and "hunter2-token-value" not in raw
    assert "abcdefghijklmnopqrstuvwxyz" not in raw
    assert "****" in ev.data["message"] and ev.data["n"] == [1, "****"]
