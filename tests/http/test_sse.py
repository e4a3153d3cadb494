"""SSE: resume with Last-Event-ID / ?after (no gap, no dup), keep-alives, end of stream, cleanup."""

from __future__ import annotations

import asyncio

import httpx

from harness_ls.http.sse_client import iter_sse
from tests.http.conftest import DOCS, DONE, PLAN, WRITE, script
from tests.http.test_routes import wait_for_approval


async def start_waiting_run(client: httpx.AsyncClient, workspace, tmp_path) -> tuple[dict, dict]:
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    body = {"workspace": str(workspace), "spec": "specs/greet/spec.md", "model": model}
    run = (await client.post("/v1/runs", json=body)).json()
    return run, await wait_for_approval(client, run["id"])


async def take_until(client, path: str, stop_type: str, **kw) -> list:
    """Read a stream until `stop_type` arrives, then drop the connection (a phone going dark)."""
    got = []
    async with client.stream("GET", path, **kw) as r:
        async for m in iter_sse(r):
            got.append(m)
            if m.event == stop_type:
                break
    return got


async def test_disconnect_mid_run_and_resume_with_last_event_id(
    client, harness, workspace, tmp_path
):
    run, approval = await start_waiting_run(client, workspace, tmp_path)
    path = f"/v1/runs/{run['id']}/events"
    first = await take_until(client, path, "approval.requested")
    assert first[0].retry is None or first[0].retry > 0
    # while nobody listens, the run moves on
    await client.post(
        f"/v1/runs/{run['id']}/approvals/{approval['id']}", json={"decision": "approve"}
    )
    rest = []
    async with client.stream(
        "GET", path, headers={"Last-Event-ID": first[-1].id}, params={"after": "1"}
    ) as r:
        rest = [m async for m in iter_sse(r)]  # ends by itself after run.completed
    assert rest[-1].event == "run.completed"
    seqs = [int(m.id) for m in first + rest]
    assert seqs == list(range(1, len(seqs) + 1)), "gap or duplicate across the reconnect"
    stored = [e.seq for e in harness.store.reader("run", run["id"]).read()]
    assert seqs == stored
    assert [m.json()["type"] for m in rest] == [m.event for m in rest]


async def test_after_query_resumes_and_finished_stream_replays_then_ends(
    client, workspace, tmp_path
):
    run, approval = await start_waiting_run(client, workspace, tmp_path)
    await client.post(
        f"/v1/runs/{run['id']}/approvals/{approval['id']}", json={"decision": "approve"}
    )
    async with client.stream("GET", f"/v1/runs/{run['id']}/events") as r:
        everything = [m async for m in iter_sse(r)]
    last = int(everything[-1].id)
    async with client.stream(
        "GET", f"/v1/runs/{run['id']}/events", params={"after": last - 3}
    ) as r:
        tail = [int(i) async for i in _ids(r)]
    assert tail == [last - 2, last - 1, last]
    # a finished run's stream ends after the replay (wait_for only guards against a hang)
    async with client.stream("GET", f"/v1/runs/{run['id']}/events", params={"after": last}) as r:
        assert await asyncio.wait_for(_all(iter_sse(r)), 10) == []


async def _all(it):
    return [m async for m in it]


async def _ids(r):
    async for m in iter_sse(r):
        yield m.id


async def test_keepalive_comments_on_an_idle_stream(serve, workspace):
    sc = await serve(keepalive=0.1, retry_ms=1234)
    async with httpx.AsyncClient(base_url=sc.url, timeout=10) as c:
        s = (await c.post("/v1/sessions", json={"workspace": str(workspace)})).json()
        seen = []
        async with c.stream("GET", f"/v1/sessions/{s['id']}/events") as r:
            raw = r.aiter_lines()
            while len([x for x in seen if x == ": keep-alive"]) < 2:
                seen.append(await asyncio.wait_for(raw.__anext__(), 5))
        assert "retry: 1234" in seen
        assert any(x.startswith("id: 1") for x in seen)  # session.created replayed first


async def test_disconnects_and_shutdown_free_every_stream(serve, workspace):
    sc = await serve(keepalive=0.05)
    app = sc.app
    async with httpx.AsyncClient(base_url=sc.url, timeout=10) as c:
        s = (await c.post("/v1/sessions", json={"workspace": str(workspace)})).json()

        async def listen_briefly():
            async with c.stream("GET", f"/v1/sessions/{s['id']}/events") as r:
                async for _ in iter_sse(r):
                    return

        await asyncio.gather(*(listen_briefly() for _ in range(20)))
        for _ in range(100):
            if app.state.streams.open == 0:
                break
            await asyncio.sleep(0.05)
        assert app.state.streams.open == 0 and app.state.streams.total == 20
    # a stream still open at shutdown ends promptly instead of holding the server up
    async with httpx.AsyncClient(base_url=sc.url, timeout=10) as c:
        async with c.stream("GET", f"/v1/sessions/{s['id']}/events") as r:
            lines = r.aiter_lines()
            await lines.__anext__()
            await sc.stop()
            # the stream ends (shutdown does not wait for clients); wait_for guards a hang only.
            await asyncio.wait_for(_all(lines), 10)
    assert app.state.streams.open == 0


async def test_bad_resume_point_is_422(client, workspace):
    s = (await client.post("/v1/sessions", json={"workspace": str(workspace)})).json()
    r = await client.get(f"/v1/sessions/{s['id']}/events", headers={"Last-Event-ID": "x1"})
    assert r.status_code == 422 and "Last-Event-ID" in r.json()["error"]["message"]


async def test_events_appended_directly_to_the_store_stream_live(client, harness, workspace):
    """Another writer in this process (the LSP host's runs) shows up live, in order."""
    s = (await client.post("/v1/sessions", json={"workspace": str(workspace)})).json()
    writer = harness.store.stream("session", s["id"])
    got = []

    async def consume():
        async with client.stream("GET", f"/v1/sessions/{s['id']}/events") as r:
            async for m in iter_sse(r):
                got.append(m)
                if len(got) == 6:
                    return

    task = asyncio.create_task(consume())
    for i in range(5):
        await writer.append("log", {"level": "info", "message": f"n{i}"})
    await asyncio.wait_for(task, 10)
    await writer.close()
    assert [m.json()["data"].get("message") for m in got[1:]] == [f"n{i}" for i in range(5)]
