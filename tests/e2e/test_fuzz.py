"""Hostile input (hypothesis): the spec validator, the event log reader, the JSON-RPC reader of a
real `harness-ls` process and the bodies of every POST route of a real agentd.

Example counts are modest so the suite stays fast on 2 cores; HARNESS_LONG=1 runs 10x more.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness_ls.http.app import all_endpoints
from harness_ls.spec import validate
from harness_ls.store import RunStore
from tests.e2e.helpers import LONG, SPEC, RawLsp, clean_env, frame, make_repo, start_agentd

N = 10 if LONG else 1
pytestmark = pytest.mark.scaled  # `make test-long` runs these with 10x the examples


def fast(n: int) -> settings:
    return settings(
        max_examples=n * N,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# ---- the spec validator --------------------------------------------------------------------
LINES = st.sampled_from(SPEC.splitlines() + ["# Goal", "```", "```sh", "- `x`", "<!--", "-->",
                                              "#", "\t# Acceptance tests", "\u2028", "\x00"])  # fmt: skip


@fast(200)
@given(st.one_of(st.text(), st.lists(st.one_of(LINES, st.text(max_size=40))).map("\n".join)))
def test_validator_never_raises_on_any_text(text):
    problems = validate(text)
    for p in problems:
        assert p.severity in ("error", "warning", "info", "hint")
        assert 0 <= p.range.start.line <= p.range.end.line


# ---- the event log reader --------------------------------------------------------------------
@pytest.fixture(scope="module")
def seeded_log(tmp_path_factory):
    root = tmp_path_factory.mktemp("log")
    store = RunStore(root / "data")
    meta = store.create_run(workspace=str(root), spec_path="s.md", spec_text=SPEC)
    stream = store.stream("run", meta.id)
    for i in range(30):
        stream.append_nowait("log", {"level": "info", "message": f"line {i} ünïcode"})
    stream.close_sync()
    path = store.root / "runs" / meta.id / "events.ndjson"
    return store.root, meta.id, path.read_bytes()


@fast(60)
@given(junk=st.binary(min_size=1, max_size=300), where=st.floats(0, 1), at_line=st.booleans(),
       mode=st.sampled_from(["insert", "append", "overwrite"]))  # fmt: skip
def test_random_bytes_in_the_log_never_crash_a_reopen_and_good_events_survive(
    seeded_log, tmp_path_factory, junk, where, at_line, mode
):
    src_root, run_id, original = seeded_log
    root = tmp_path_factory.mktemp("fz")
    data = root / "data"
    shutil.copytree(src_root, data)
    path = data / "runs" / run_id / "events.ndjson"
    lines = original.splitlines(keepends=True)
    pos = int(where * len(original))
    if at_line:  # snap to a line start: then every original line must survive
        starts = [0]
        for ln in lines:
            starts.append(starts[-1] + len(ln))
        pos = min(starts, key=lambda s: abs(s - pos))
        if not junk.endswith(b"\n"):
            junk += b"\n"
    if mode == "append":
        blob = original + junk
        pos = len(original)
    elif mode == "insert":
        blob = original[:pos] + junk + original[pos:]
    else:
        blob = original[:pos] + junk + original[pos + len(junk) :]
    path.write_bytes(blob)
    (data / "runs" / run_id / "meta.json").unlink(missing_ok=True)  # force a rebuild from the log

    store = RunStore(data)
    read = list(store.reader("run", run_id).read())
    touched = set()
    off = 0
    for i, ln in enumerate(lines):  # lines the junk overlapped or split
        end = off + len(ln)
        span_end = pos + (len(junk) if mode != "append" else 0)
        if (
            mode != "append"
            and not (at_line and pos == off)
            and off < max(span_end, pos + 1)
            and pos < end
        ):
            touched.add(i)
        off = end
    originals = [json.loads(ln) for ln in lines]
    got = {e.id for e in read}
    for i, ev in enumerate(originals):
        if i not in touched and mode != "overwrite":
            assert ev["id"] in got, (i, mode, pos, junk[:40])
    meta = store.get("run", run_id)  # rebuilt from the log
    assert meta.id == run_id
    stream = store.stream("run", run_id)  # the writer repairs on open ...
    try:
        ev = stream.append_nowait("log", {"level": "info", "message": "after"})  # ... and appends
    finally:
        stream.close_sync()
    again = list(RunStore(data).reader("run", run_id).read())
    assert again[-1].id == ev.id and ev.seq == max(e.seq for e in again)
    assert [e.seq for e in again] == sorted({e.seq for e in again})  # no duplicate seq


# ---- the JSON-RPC reader of harness-ls ---------------------------------------------------------
def _lsp(tmp_path: Path, name: str) -> RawLsp:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"))
    lsp = RawLsp(ws, env, tmp_path / "logs", name)
    lsp.initialize(ws, {"harness": {"sidecar": {"enabled": False}}})
    return lsp


def _alive(lsp: RawLsp) -> None:
    res = lsp.request("workspace/executeCommand", {"command": "harness.nope", "arguments": []}, 20)
    assert "error" in res or "result" in res


HOSTILE = {  # well-framed JSON the server must answer or ignore (broken framing: test_lsp_frames)
    "json but not an object": frame(b"[1, 2, 3]"),
    "unknown method": frame({"jsonrpc": "2.0", "id": 77, "method": "no/such", "params": {}}),
    "bad params": frame(
        {"jsonrpc": "2.0", "id": 78, "method": "textDocument/hover", "params": {"x": 1}}
    ),  # fmt: skip
    "no jsonrpc field": frame({"id": 79, "method": "shutdownx"}),
    "a string": frame(b'"hello"'),
    "null": frame(b"null"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_jsonrpc_garbage_leaves_the_server_up(tmp_path, name):
    lsp = _lsp(tmp_path, "lsp")
    try:
        lsp.send_raw(HOSTILE[name])
        _alive(lsp)
        assert lsp.garbage == [], lsp.garbage
    finally:
        code = lsp.close()
    assert code == 0
    assert "Traceback" not in "".join(str(m) for m in lsp.messages)


@pytest.mark.parametrize(
    "raw",
    [
        b"Content-Length: 99999999999\r\n\r\n{}",  # huge declared length, then EOF
        b'Content-Length: 50\r\n\r\n{"jsonrpc": "2.0"}',  # shorter than declared, then EOF
        b"Content-Length: 5\r\n",  # headers never end
        b"\x00\xff" * 1000,
    ],
    ids=["huge-length", "short-body", "unterminated-headers", "binary-noise"],
)
def test_jsonrpc_truncated_input_then_eof_exits_cleanly(tmp_path, raw):
    lsp = _lsp(tmp_path, "lsp")
    lsp.send_raw(raw)
    assert lsp.proc.stdin is not None
    lsp.proc.stdin.close()
    code = lsp.proc.wait(20)
    assert lsp.garbage == []
    assert code in (0, 1), code
    assert not uncaught_traceback(lsp.err.read_text())


def uncaught_traceback(err: str) -> bool:
    """True when stderr shows a crash: an exception that unwound to `python -m harness_ls` itself
    (its traceback starts in runpy). pygls logs an unparseable message with a traceback through
    logging (`harness-ls ERROR ...`); that is a report, the server keeps going."""
    return "<frozen runpy>" in err


def test_jsonrpc_wrong_lengths_fuzzed_on_one_process(tmp_path):
    """Self-delimited frames with random JSON bodies (hypothesis) on one process; alive after
    each. (A body that is not JSON ends the server on purpose: see test_lsp_frames.py.)"""
    lsp = _lsp(tmp_path, "lsp")
    try:

        @fast(40)
        @given(st.one_of(st.text(max_size=200).map(lambda t: json.dumps(t).encode()),
                         st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10),
                                         max_size=5).map(lambda d: json.dumps(d).encode())))  # fmt: skip
        def one(body):
            lsp.send_raw(frame(body))
            _alive(lsp)

        one()
        assert lsp.garbage == []
    finally:
        assert lsp.close() == 0


# ---- HTTP API bodies --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def agentd(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-http")
    ws = make_repo(root / "ws")
    d = start_agentd(root, root / "data")
    d.extra["ws"] = ws
    yield d
    d.stop()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
    max_leaves=12,
)
KEYS = ["workspace", "spec", "model", "resume", "decision", "note", "scope", "text", "mode",
        "name", "prompt", "overwrite", "title", "spec_path", "attachments"]  # fmt: skip
POSTS = sorted({ep.path for ep in all_endpoints() if ep.method == "POST"})


@fast(150)
@given(
    path=st.sampled_from(POSTS),
    body=st.one_of(JSON, st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6)),
    raw=st.one_of(st.none(), st.binary(max_size=60)),
)
def test_random_bodies_to_post_routes_get_json_4xx_never_500(agentd, path, body, raw):
    url = agentd.url + re.sub(r"\{[^}]+\}", "run_0000000000000000000000000X", path)
    if raw is not None:
        r = httpx.post(url, content=raw, headers={"content-type": "application/json"}, timeout=20)
    else:
        r = httpx.post(url, json=body, timeout=20)
    assert r.status_code < 500, (path, body, r.status_code, r.text[:500])
    if r.status_code >= 400:
        err = r.json()["error"]
        assert err["code"] and err["message"], r.text


def test_agentd_survived_the_fuzzing(agentd):
    time.sleep(0.2)
    assert httpx.get(agentd.url + "/v1/health", timeout=10).status_code == 200
    assert "Traceback" not in agentd.stderr(), agentd.stderr()[-3000:]
