"""One retry budget per model call (issue 32, item 2), through a real agentd: a refused request
(HTTP 503 before any byte, or a refused connection) is retried HARNESS_MODEL_RETRIES times in
all — never the request layer's retries again inside the turn's — and every `model.retry` says
`phase: "request"`, since no answer ever started streaming."""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import httpx

from tests.e2e.helpers import PLAN, Api, clean_env, make_repo, start_agentd, start_fake

MODEL = "openai:gpt-4.1-mini"
UNAVAILABLE = {"status": 503, "message": "overloaded", "retry_after": 0}


def _run(tmp_path: Path, procs, base_url: str, **env: str) -> tuple[dict, list[dict]]:
    ws = make_repo(tmp_path / "ws")
    data = tmp_path / "data"
    e = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=base_url, **env)
    agentd = start_agentd(tmp_path, data, env=e)
    procs.append(agentd)
    api = Api(agentd.url)
    rid = api.start_run(ws, MODEL)["id"]
    meta = api.wait_status(rid, 120, approve=True)
    return meta, api.events(rid)


def test_a_503_before_any_byte_is_retried_three_times_in_all(tmp_path: Path, procs):
    fake = start_fake(tmp_path, PLAN, *[UNAVAILABLE] * 4, default={"text": "Done."})
    procs.append(fake)
    meta, evs = _run(tmp_path, procs, fake.url)
    retries = [e["data"] for e in evs if e["type"] == "model.retry"]
    # the execute call: 4 attempts (1 + HARNESS_MODEL_RETRIES=3), 3 retries, all before a stream
    assert [(r["attempt"], r["max_attempts"], r["phase"], r.get("status")) for r in retries] == [
        (1, 4, "request", 503),
        (2, 4, "request", 503),
        (3, 4, "request", 503),
    ]
    failed = [e["data"] for e in evs if e["type"] == "step.failed"]
    assert failed and "after 4 attempts" in failed[0]["error"], failed
    assert meta["status"] == "failed"
    bodies = httpx.get(fake.url.removesuffix("/v1") + "/_fake/requests").json()
    assert len(bodies) == 1 + 4  # the plan, then the execute call's 4 attempts: the run stops
    assert bodies[1]["messages"] == bodies[4]["messages"]


def test_a_refused_connection_honours_harness_model_retries(tmp_path: Path, procs):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    meta, evs = _run(tmp_path, procs, dead, HARNESS_MODEL_RETRIES="2")
    retries = [e for e in evs if e["type"] == "model.retry"]
    assert retries, [e["type"] for e in evs]
    assert {e["data"]["phase"] for e in retries} == {"request"}
    assert {e["data"]["max_attempts"] for e in retries} == {3}
    per_call = Counter(
        (e.get("step_id"), n)
        for n, e in enumerate(evs)
        if e["type"] == "model.retry" and e["data"]["attempt"] == 1
    )
    # each call's retries count 1, 2 and stop: never a second round of the same call
    attempts = [e["data"]["attempt"] for e in retries]
    assert attempts == [1, 2] * len(per_call), attempts
    assert meta["status"] == "failed"
    failed = [e["data"] for e in evs if e["type"] in ("step.failed", "run.failed")]
    assert any("after 3 attempts" in (f.get("error") or "") for f in failed), failed
