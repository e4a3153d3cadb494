"""Faults around a real agentd process: kill -9 mid-run and resume, a model stream cut mid-answer,
20 concurrent runs on one daemon.

Runs use the scripted provider (`scripted:<file>`) or the fake OpenAI-compatible server process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    DOCS,
    DONE,
    PLAN,
    WRITE,
    Api,
    clean_env,
    make_repo,
    start_agentd,
    start_fake,
    wait_for,
    write_script,
)

TWO_STEP_SPEC = (
    "# Goal\n\nWrite a.txt and b.txt.\n\n# Constraints / nuances\n\n- Only touch a.txt and b.txt.\n\n"
    "# Acceptance tests\n\n- `grep -qx a a.txt`\n- `grep -qx b b.txt`\n"
)
PLAN2 = {"text": '{"steps": [{"title": "Write a.txt"}, {"title": "Write b.txt"}]}'}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


def test_kill9_mid_run_then_restart_marks_interrupted_and_resume_loses_nothing(tmp_path: Path):
    ws = make_repo(tmp_path / "ws", TWO_STEP_SPEC, "two")
    data = tmp_path / "data"
    first = write_script(
        tmp_path / "first.json", PLAN2, write("a.txt", "a\n"), {"text": "a done"},
        write("b.txt", "b\n"),
    )  # fmt: skip
    d1 = start_agentd(tmp_path, data, name="agentd-1")
    try:
        api = Api(d1.url)
        run = api.start_run(ws, first, spec="specs/two/spec.md")
        rid = run["id"]
        a1 = api.wait_approval(rid)
        assert a1["preview"]["path"] == "a.txt"
        api.approve(rid, a1["id"])
        a2 = api.wait_approval(rid, skip={a1["id"]})
        assert a2["preview"]["path"] == "b.txt"
        assert api.run(rid)["status"] == "waiting_approval"
        acknowledged = api.events(rid)  # what any client has seen before the crash
        api.close()
    finally:
        d1.kill9()
    assert acknowledged[-1]["type"] == "approval.requested"

    d2 = start_agentd(tmp_path, data, name="agentd-2")
    try:
        api = Api(d2.url)
        meta = api.run(rid)
        assert meta["status"] == "interrupted", meta
        after_restart = api.events(rid)
        # every acknowledged event survives, byte-for-byte the same, and seqs are gap-free
        assert after_restart[: len(acknowledged)] == acknowledged
        # recovery closed the open approval and the call waiting for it, then marked the run
        closing = after_restart[len(acknowledged) :]
        assert [e["type"] for e in closing] == [
            "approval.resolved",
            "tool.result",
            "run.interrupted",
        ]
        assert closing[0]["data"]["approval_id"] == a2["id"]
        assert closing[0]["data"]["decision"] == "cancelled"
        assert closing[0]["data"]["surface"] == "recovery"
        assert closing[0]["data"]["reason"] == "daemon stopped"
        assert closing[1]["data"]["error_code"] == "interrupted"
        assert closing[1]["data"]["data"]["started"] is False
        assert [e["seq"] for e in after_restart] == list(range(1, len(after_restart) + 1))
        assert api.approvals(rid) == []  # the old approval is not answerable any more

        # the step resumes from its logged turn: the unanswered write asks again without a new
        # model turn, so the model's next answer is "b done"
        second = write_script(tmp_path / "second.json", {"text": "b done"}, DOCS)
        resumed = api.start_run(ws, second, spec="specs/two/spec.md", resume=rid)
        assert resumed["id"] == rid
        a3 = api.wait_approval(rid)
        assert a3["preview"]["path"] == "b.txt"
        api.approve(rid, a3["id"])
        final = api.wait_status(rid)
        assert final["status"] == "completed", final
        evs = api.events(rid)
        assert evs[: len(after_restart)] == after_restart
        assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
        types = [e["type"] for e in evs]
        assert "run.resumed" in types, "\n".join(
            f"{e['seq']} {e['type']} {json.dumps(e['data'])[:120]}" for e in evs
        )
        at = types.index("run.resumed")
        titles_after = [e["data"].get("title") for e in evs[at:] if e["type"] == "step.started"]
        assert titles_after == ["Write b.txt", "Update documentation"]  # step 1 not redone
        a_writes = [
            e for e in evs if e["type"] == "tool.result" and "a.txt" in json.dumps(e["data"])
        ]
        assert len(a_writes) == 1
        assert (ws / "a.txt").read_text() == "a\n" and (ws / "b.txt").read_text() == "b\n"
        api.close()
    finally:
        d2.stop()
    assert "Traceback" not in d2.stderr()


@pytest.mark.parametrize("cut_mode", ["abort", "close"])
def test_model_stream_cut_mid_answer_fails_the_run_with_a_clear_reason(tmp_path: Path, cut_mode):
    """The fake OpenAI server resets the connection mid-stream on every call: the run fails
    (after the provider's retries, if any) with a reason naming the model/connection, no hang."""
    cut = {
        "text": "I will now write a very long answer " * 20,
        "cut_after": 3,
        "cut_mode": cut_mode,
    }
    fake = start_fake(tmp_path, PLAN, default=cut)
    ws = make_repo(tmp_path / "ws")
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"),
                    OPENAI_BASE_URL=fake.url)  # fmt: skip
    d = start_agentd(tmp_path, tmp_path / "data", env=env)
    try:
        api = Api(d.url)
        models = httpx_models(fake.url)
        run = api.start_run(ws, f"openai:{models}" if models else None)
        t0 = time.monotonic()
        final = api.wait_status(run["id"], within=90)
        elapsed = time.monotonic() - t0
        assert final["status"] == "failed", final
        reason = (final.get("outcome") or "").lower()
        evs = api.events(run["id"])
        failed = next(e for e in evs if e["type"] == "run.failed")
        text = (failed["data"].get("error", "") + " " + reason).lower()
        assert any(w in text for w in ("connection", "stream", "model", "network", "incomplete")), (
            text
        )
        assert "traceback" not in json.dumps(failed).lower()
        print(f"stream cut → run failed in {elapsed:.1f}s: {failed['data'].get('error')}")
        api.close()
    finally:
        d.stop()
        fake.stop()


def httpx_models(fake_url: str) -> str | None:
    import httpx

    try:
        data = httpx.get(f"{fake_url}/models", timeout=5).json()
        return data["data"][0]["id"]
    except Exception:  # noqa: BLE001 - fall back to the default model name
        return None


def test_twenty_concurrent_runs_on_one_daemon_all_complete(tmp_path: Path):
    n = 20
    data = tmp_path / "data"
    d = start_agentd(tmp_path, data)
    try:
        api = Api(d.url)
        jobs = []
        for i in range(n):
            ws = make_repo(tmp_path / f"ws{i}")
            model = write_script(tmp_path / f"s{i}.json", PLAN, WRITE, DONE, DOCS)
            jobs.append((ws, model))
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            runs = list(pool.map(lambda j: api.start_run(*j), jobs))
        ids = {r["id"] for r in runs}
        assert len(ids) == n
        answered: set[str] = set()

        def all_done() -> bool:
            pending = [a for a in api.get("/v1/approvals") if a.get("status") == "pending"]
            for a in pending:
                if a["id"] not in answered and a.get("run_id") in ids:
                    api.approve(a["run_id"], a["id"])  # approvals answered over HTTP
                    answered.add(a["id"])
            statuses = [api.run(r)["status"] for r in ids]
            return all(s in ("completed", "failed", "cancelled", "interrupted") for s in statuses)

        wait_for(all_done, 150, every=0.2, what="20 runs to finish")
        elapsed = time.monotonic() - t0
        finals = [api.run(r) for r in ids]
        assert [f["status"] for f in finals] == ["completed"] * n, [
            (f["id"], f["status"], f.get("outcome")) for f in finals if f["status"] != "completed"
        ]
        for ws, _ in jobs:
            assert (ws / "greet.txt").read_text() == "hello\n"
        for rid in ids:
            evs = api.events(rid)
            assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
        print(f"{n} concurrent runs completed in {elapsed:.1f}s")
        api.close()
    finally:
        d.stop()
    assert "Traceback" not in d.stderr()


def test_agentctl_attach_of_a_resumed_run_follows_it_to_the_end(tmp_path: Path):
    """Replay passes the historical run.interrupted (server: http/sse.py; client: agentctl)."""
    import asyncio

    from harness_ls.core import Harness

    ws = make_repo(tmp_path / "ws")
    data = tmp_path / "data"
    slow = write_script(tmp_path / "a.json", PLAN, {"text": "thinking", "delay": 5})
    rest = write_script(tmp_path / "b.json", WRITE, DONE, DOCS)

    async def interrupted_then_resumed() -> str:
        h = Harness(data, policy_mode="auto-edit")
        await h.start()
        meta = await h.start_run(str(ws), "specs/greet/spec.md", model=slow)
        for _ in range(200):
            if any(e.type == "step.started" and e.data.get("phase") == "execute"
                   for e in h.store.reader("run", meta.id).read()):  # fmt: skip
                break
            await asyncio.sleep(0.05)
        await h.close()
        h2 = Harness(data, policy_mode="auto-edit")
        await h2.start()
        await h2.start_run(str(ws), "specs/greet/spec.md", model=rest, resume=meta.id)
        final = await h2.wait_run(meta.id, 60)
        assert final.status == "completed", final
        await h2.close()
        return meta.id

    rid = asyncio.run(interrupted_then_resumed())
    d = start_agentd(tmp_path, data)
    try:
        env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), HARNESS_URL=d.url)
        out = subprocess.run([sys.executable, "-m", "harness_ls.cli.agentctl", "attach", "--json", rid],
                             env=env, cwd=ws, capture_output=True, text=True, timeout=60)  # fmt: skip
        last = json.loads(out.stdout.strip().splitlines()[-1])
        assert last["type"] == "run.completed", last["type"]
        assert out.returncode == 0
    finally:
        d.stop()
