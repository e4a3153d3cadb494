"""Every API route against a real Harness, real uvicorn, scripted model, real git workspace."""

from __future__ import annotations

import asyncio
import io
import zipfile

import httpx

from harness_ls.http.sse_client import iter_sse
from tests.http.conftest import DOCS, DONE, PLAN, WRITE, script


async def wait_for_approval(client: httpx.AsyncClient, run_id: str, within: float = 20.0) -> dict:
    async def poll() -> dict:
        while True:
            for a in (await client.get("/v1/approvals")).json():
                if a.get("run_id") == run_id:
                    return a
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), within)


async def read_events(client: httpx.AsyncClient, path: str, **kw) -> list:
    async with client.stream("GET", path, **kw) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        return [m async for m in iter_sse(r)]


async def test_health_doctor_openapi(client):
    h = (await client.get("/v1/health")).json()
    assert h["status"] == "ok" and h["kind"] == "agentd" and h["auth"] is False
    d = (await client.get("/v1/doctor")).json()
    names = {c["name"]: c for c in d["checks"]}
    assert names["data_dir"]["ok"] and not names["model"]["ok"]  # no key: offline, said plainly
    assert "offline" in names["model"]["detail"]
    doc = (await client.get("/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    post = doc["paths"]["/v1/runs"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"workspace", "spec"}
    assert "text/event-stream" in str(doc["paths"]["/v1/runs/{run_id}/events"]["get"]["responses"])
    assert "RunMeta" in doc["components"]["schemas"]


async def test_full_run_over_http_approved_from_the_api(client, workspace, tmp_path):
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    r = await client.post(
        "/v1/runs",
        json={"workspace": str(workspace), "spec": "specs/greet/spec.md", "model": model},
    )
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["id"].startswith("run_") and run["spec_path"] == "specs/greet/spec.md"
    approval = await wait_for_approval(client, run["id"])
    assert approval["tool"] == "write_file" and "+hello" in approval["preview"]["diff"]
    assert (await client.get(f"/v1/runs/{run['id']}")).json()["status"] == "waiting_approval"
    url = f"/v1/runs/{run['id']}/approvals/{approval['id']}"
    ok = await client.post(url, json={"decision": "approve", "note": "lgtm"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved", ok.text
    again = await client.post(url, json={"decision": "deny"})
    assert again.status_code == 409 and "already answered" in again.json()["error"]["message"]
    events = await read_events(client, f"/v1/runs/{run['id']}/events")
    types = [m.event for m in events]
    assert types[-1] == "run.completed" and "verify.result" in types
    assert [int(m.id) for m in events] == list(range(1, len(events) + 1))
    resolved = next(m.json() for m in events if m.event == "approval.resolved")
    assert resolved["data"]["surface"] == "http" and resolved["data"]["decision"] == "approve"
    final = (await client.get(f"/v1/runs/{run['id']}")).json()
    assert final["status"] == "completed"
    listed = (await client.get("/v1/runs", params={"status": "completed"})).json()
    assert [x["id"] for x in listed] == [run["id"]]
    assert (await client.get("/v1/runs", params={"status": "failed"})).json() == []
    diff = (await client.get(f"/v1/runs/{run['id']}/diff")).json()
    assert "+hello" in diff["diff"], diff
    z = await client.get(f"/v1/runs/{run['id']}/export")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert any(n.endswith("events.ndjson") for n in names)
    cancel = await client.post(f"/v1/runs/{run['id']}/cancel")
    assert cancel.status_code == 409


async def test_cancel_a_waiting_run_and_the_stream_ends(client, workspace, tmp_path):
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    run = (
        await client.post(
            "/v1/runs",
            json={"workspace": str(workspace), "spec": "specs/greet/spec.md", "model": model},
        )
    ).json()
    await wait_for_approval(client, run["id"])
    r = await client.post(f"/v1/runs/{run['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    events = await asyncio.wait_for(read_events(client, f"/v1/runs/{run['id']}/events"), 10)
    assert events[-1].event == "run.cancelled"
    assert not [
        a for a in (await client.get("/v1/approvals")).json() if a.get("run_id") == run["id"]
    ]


async def test_bad_input_is_answered_with_json_errors(client, workspace):
    r = await client.post("/v1/runs", json={"workspace": 3, "extra": 1})
    assert r.status_code == 422
    err = r.json()["error"]
    fields = {f["field"] for f in err["details"]["fields"]}
    assert {"workspace", "spec", "extra"} <= fields and "spec" in err["message"] and err["hint"]
    r = await client.post(
        "/v1/runs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]["message"]
    r = await client.post(
        "/v1/runs",
        content=b"workspace=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    r = await client.post(
        "/v1/runs", json={"workspace": str(workspace), "spec": "specs/nope/spec.md"}
    )
    assert r.status_code == 422 and "specs/nope/spec.md not found" in r.json()["error"]["message"]
    for path in (
        "/v1/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ00",
        "/v1/sessions/ses_01ABCDEFGHJKMNPQRSTVWXYZ0",
        "/v1/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ00/events",
        "/v1/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ00/export",
        "/v1/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ00/diff",
        "/v1/no/such/route",
    ):
        r = await client.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json()["error"]["code"] == "not_found"
    r = await client.post(
        "/v1/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ00/approvals/st_x", json={"decision": "approve"}
    )
    assert r.status_code == 404
    r = await client.post("/v1/runs/run_x/approvals/st_x", json={"decision": "maybe"})
    assert r.status_code == 422 and "decision" in r.json()["error"]["message"]
    r = await client.delete("/v1/runs")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = await client.get("/v1/runs", params={"limit": "0"})
    assert r.status_code == 422 and "limit" in r.json()["error"]["message"]
    r = await client.get("/v1/runs/x/events", headers={"Last-Event-ID": "abc"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_oversize_bodies_get_413(serve, workspace):
    sc = await serve(max_json_bytes=1000, max_upload_bytes=2000)
    async with httpx.AsyncClient(base_url=sc.url) as c:
        r = await c.post("/v1/runs", json={"workspace": "x" * 2000, "spec": "s"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
        s = (await c.post("/v1/sessions", json={"workspace": str(workspace)})).json()
        r = await c.post(
            f"/v1/sessions/{s['id']}/attachments", files={"file": ("big.bin", b"x" * 5000)}
        )
        assert r.status_code == 413, r.text


async def test_sessions_create_message_attach_events_export(client, workspace, tmp_path):
    r = await client.post("/v1/sessions", json={"workspace": str(workspace), "title": "chat"})
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["id"] and (await client.get(f"/v1/sessions/{s['id']}")).json()["title"] == "chat"
    assert [x["id"] for x in (await client.get("/v1/sessions")).json()] == [s["id"]]
    up = await client.post(
        f"/v1/sessions/{s['id']}/attachments",
        files={"file": ("notes.txt", b"hello notes", "text/plain")},
    )
    assert up.status_code == 201, up.text
    ref = up.json()["ref"]
    r = await client.post(f"/v1/sessions/{s['id']}/attachments", files={"other": ("a.txt", b"x")})
    assert r.status_code == 422 and "file" in r.json()["error"]["message"]
    r = await client.post(f"/v1/sessions/{s['id']}/attachments", data={"x": "1"})
    assert r.status_code == 415
    m = await client.post(
        f"/v1/sessions/{s['id']}/messages", json={"text": "hi there", "attachments": [ref]}
    )
    assert m.status_code == 202, m.text
    await harness_idle(client, s["id"])
    events = await read_events(client, f"/v1/sessions/{s['id']}/events", params={"follow": "false"})
    types = [e.event for e in events]
    assert "attachment.added" in types and "user.message" in types
    user = next(e.json() for e in events if e.event == "user.message")
    assert user["data"]["content"] == "hi there" and user["data"]["refs"] == [ref]
    tail = await read_events(
        client, f"/v1/sessions/{s['id']}/events", params={"follow": "false", "after": events[-2].id}
    )
    assert [e.id for e in tail] == [events[-1].id]
    typed = await client.post(
        f"/v1/sessions/{s['id']}/messages",
        json={"text": "and again", "attachments": [{"ref": ref, "mime": "text/plain"}]},
    )
    assert typed.status_code == 202, typed.text
    await harness_idle(client, s["id"])
    bad = await client.post(
        f"/v1/sessions/{s['id']}/messages",
        json={"text": "x", "attachments": [{"mime": "text/plain"}]},
    )
    assert bad.status_code == 422 and "ref" in bad.json()["error"]["message"]
    z = await client.get(f"/v1/sessions/{s['id']}/export")
    assert z.status_code == 200 and zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert (
        await client.post(f"/v1/sessions/{s['id']}/messages", json={"text": ""})
    ).status_code == 422


async def harness_idle(client: httpx.AsyncClient, sid: str, within: float = 20.0) -> None:
    async def poll() -> None:
        while True:
            if (await client.get(f"/v1/sessions/{sid}")).json()["status"] != "running":
                return
            await asyncio.sleep(0.05)

    await asyncio.sleep(0.1)
    await asyncio.wait_for(poll(), within)


async def test_specs_new_and_generate(client, workspace):
    r = await client.post("/v1/specs", json={"workspace": str(workspace), "name": "login"})
    assert r.status_code == 201, r.text
    assert r.json()["path"].endswith("specs/login/spec.md") and "# Goal" in r.json()["text"]
    again = await client.post("/v1/specs", json={"workspace": str(workspace), "name": "login"})
    assert again.status_code == 409
    bad = await client.post("/v1/specs", json={"workspace": str(workspace), "name": "../x"})
    assert bad.status_code == 422 and "name" in bad.json()["error"]["message"]
    gen = await client.post(
        "/v1/specs/generate",
        json={"workspace": str(workspace), "name": "todo", "prompt": "a todo app"},
    )
    # offline (no model configured): the template with the prompt under # Goal, and why
    assert gen.status_code == 201, gen.text
    body = gen.json()
    assert body["path"] == str(workspace / "specs/todo/spec.md")
    assert body["extra"]["offline"] is True and body["extra"]["attempts"] == 0
    assert body["extra"]["message"].startswith("no model configured")
    assert "a todo app" in (workspace / "specs/todo/spec.md").read_text()


async def test_cached_listing_follows_every_change(server, client, harness, workspace):
    """The list cache must never serve a stale status: new streams, in-process appends, and
    meta.json rewrites by another process all change the answer at once."""
    assert (await client.get("/v1/sessions")).json() == []
    s = (await client.post("/v1/sessions", json={"workspace": str(workspace)})).json()
    first = (await client.get("/v1/sessions")).json()
    assert [x["id"] for x in first] == [s["id"]]
    assert (await client.get("/v1/sessions")).json() == first  # served from cache
    meta = harness.store.create_run(workspace=str(workspace), spec_path="specs/greet/spec.md",
                                    spec_text=(workspace / "specs/greet/spec.md").read_text())  # fmt: skip
    runs = (await client.get("/v1/runs")).json()
    assert runs[0]["id"] == meta.id and runs[0]["status"] == "created"
    writer = harness.store.stream("run", meta.id)
    await writer.append("run.started", {})
    assert (await client.get("/v1/runs")).json()[0]["status"] == "running"
    await writer.append("run.cancelled", {"reason": "test"})
    await writer.close()
    assert (await client.get("/v1/runs")).json()[0]["status"] == "cancelled"
    assert (await client.get("/v1/runs", params={"status": "running"})).json() == []
    assert server.app.state.list_cache.hits >= 1


async def test_openapi_names_the_contract_models(client):
    schemas = (await client.get("/v1/openapi.json")).json()["components"]["schemas"]
    for name in ("RunMeta", "SessionMeta", "PendingApproval", "RunCreate", "ApprovalAnswer",
                 "MessagePost", "SpecGenerate", "ErrorResponse"):  # fmt: skip
        assert name in schemas, name
