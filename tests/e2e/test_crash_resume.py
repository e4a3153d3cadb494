"""kill -9 at each point of a tool call's life, then restart and resume (issue 26).

A real agentd process over a data dir, the fake OpenAI-compatible server as its own process (it
outlives the daemon, so its answer queue continues where the killed daemon left it), a real git
repo. The run makes three gated calls: `shell echo c1 >> counter.log`, `write_file out.txt`,
`shell echo c3 >> counter.log`. The daemon dies at one point of one call:

- `requested`: the approval is pending; the test sends SIGKILL from outside;
- `approved` / `executing` / `result`: the daemon SIGKILLs itself there through the test-only
  hook `HARNESS_TEST_KILL_AT=<point>:<n>` (agent/killpoint.py) — approval.resolved written /
  the tool returned but its result is not written / tool.result written. An outside kill cannot
  hit these windows reliably; the hook is a real SIGKILL of the real process all the same.

Then a second agentd recovers the data dir, the run is resumed over HTTP and every approval
is answered. Checked: every `approval.requested` has exactly one `approval.resolved`, recovery
closed everything before `run.interrupted`, no completed call ran twice (counter.log counts the
shell runs), the interrupted call asks again (naming the interruption when its effects are
unknown), and the run completes.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.e2e.helpers import Api, clean_env, make_repo, start_agentd, start_fake, wait_for

SPEC = (
    "# Goal\n\nWrite out.txt and log two shell steps.\n\n# Constraints / nuances\n\n"
    "- Only touch out.txt and counter.log.\n\n# Acceptance tests\n\n- `grep -qx done out.txt`\n"
)
PLAN = {"text": '{"steps": [{"title": "Do the three calls"}]}'}
C1 = "echo c1 >> counter.log"
C3 = "echo c3 >> counter.log"
CALLS = [
    {"tool_calls": [{"name": "shell", "arguments": {"command": C1}}]},
    {"tool_calls": [{"name": "write_file", "arguments": {"path": "out.txt", "content": "done\n"}}]},
    {"tool_calls": [{"name": "shell", "arguments": {"command": C3}}]},
]
ANSWERS = [PLAN, *CALLS, {"text": "All three done."}, {"text": "Nothing to document."}]
POINTS = ("requested", "approved", "executing", "result")
MODEL = "openai:gpt-4.1-mini"


def crash_and_resume(root: Path, point: str, nth: int, policy: str | None = None):
    """Kill agentd at `point` of the nth gated call, restart, resume, answer everything.

    Returns (workspace, every event, the bodies the model server received, shell run counts)."""
    ws = make_repo(root / "ws", SPEC, "crash")
    data = root / "data"
    if policy is not None:
        data.mkdir(parents=True)
        (data / "policy.toml").write_text(policy)
    fake = start_fake(root, *ANSWERS)
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url)
    kill_env = (
        dict(env) if point == "requested" else {**env, "HARNESS_TEST_KILL_AT": f"{point}:{nth}"}
    )
    d1 = start_agentd(root, data, env=kill_env, name="agentd-1")
    try:
        api = Api(d1.url)
        rid = api.start_run(ws, MODEL, spec="specs/crash/spec.md")["id"]
        seen: set[str] = set()

        def step() -> bool:
            """Approve what is asked until the daemon dies (or, for `requested`, kill it)."""
            if d1.proc.poll() is not None:
                return True
            try:
                pending = [a for a in api.approvals(rid) if a["id"] not in seen]
            except Exception:  # noqa: BLE001 - the daemon died under the request
                return d1.proc.poll() is not None
            for a in pending:
                seen.add(a["id"])
                if point == "requested" and len(seen) == nth:
                    d1.kill9()
                    return True
                try:
                    api.approve(rid, a["id"])
                except Exception:  # noqa: BLE001 - killed while answering
                    return d1.proc.poll() is not None
            return False

        wait_for(step, 60, every=0.05, what=f"agentd to die at {point}:{nth}")
        api.close()
    finally:
        d1.kill9()
    assert d1.proc.returncode == -9, d1.stderr()[-2000:]

    d2 = start_agentd(root, data, env=env, name="agentd-2")
    try:
        api = Api(d2.url)
        assert api.run(rid)["status"] == "interrupted"
        before = api.events(rid)
        # recovery closed every open approval and call, then marked the run interrupted
        assert before[-1]["type"] == "run.interrupted", _dump(before)
        assert_paired(before)
        for e in before:
            if e["data"].get("surface") == "recovery":
                assert e["data"]["decision"] == "cancelled"
                assert e["data"]["reason"] == "daemon stopped"

        api.start_run(ws, MODEL, spec="specs/crash/spec.md", resume=rid)
        asked: list[dict] = []

        def answer_all() -> dict | None:
            for a in api.approvals(rid):
                asked.append(a)
                api.approve(rid, a["id"])
            m = api.run(rid)
            return m if m["status"] in ("completed", "failed", "cancelled", "interrupted") else None

        final = wait_for(answer_all, 90, every=0.1, what="the resumed run to end")
        evs = api.events(rid)
        assert final["status"] == "completed", (final, _dump(evs))
        api.close()
        seen_by_model = httpx.get(fake.url.removesuffix("/v1") + "/_fake/requests").json()
    finally:
        d2.stop()
        fake.stop()
    assert "Traceback" not in d2.stderr()

    assert_paired(evs)
    assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
    assert (ws / "out.txt").read_text() == "done\n"
    runs = Counter((ws / "counter.log").read_text().split())
    return ws, evs, seen_by_model, runs


def check_resume(point: str, nth: int, evs: list[dict], seen_by_model: list, runs: Counter):
    """The promises of issue 26 for one kill point (default policy: every call asks)."""
    resumed_at = max(i for i, e in enumerate(evs) if e["type"] == "run.resumed")
    after = evs[resumed_at:]
    re_asked = [e for e in after if e["type"] == "approval.requested"]
    interrupted_asks = [e for e in re_asked if e["data"].get("interrupted")]
    effects_unknown = point in ("approved", "executing")
    write_done = point == "executing" and nth == 2  # the write happened; content matches

    # no completed call runs twice; only an effects-unknown shell call the user re-approved may
    expected = {"c1": 1, "c3": 1}
    if point == "executing" and nth in (1, 3):
        expected[f"c{nth}"] = 2  # it ran, its result was lost, the user approved it again
    assert runs == expected, (runs, _dump(evs))
    # the calls still to do after the crash ask again (one approval each); finished ones do not
    todo = 3 - nth + (0 if point == "result" or write_done else 1)
    assert len(re_asked) == todo, _dump(after)
    if effects_unknown and not write_done:
        assert len(interrupted_asks) == 1, _dump(after)
        ask = interrupted_asks[0]["data"]
        assert ask["preview"]["summary"].startswith("interrupted: effects unknown")
        assert ask["tool"] == ("write_file" if nth == 2 else "shell")
        # the model is told too, in the tool message of that call
        last = seen_by_model[-2]["messages"]  # the request after it (the last is the docs step)
        tool_msgs = [m for m in last if m["role"] == "tool"]
        assert tool_msgs[nth - 1]["content"].startswith("interrupted: effects unknown")
    else:
        assert interrupted_asks == [], _dump(after)
    if write_done:
        applied = [
            e
            for e in after
            if e["type"] == "tool.result" and e["data"].get("data", {}).get("replay")
        ]
        assert len(applied) == 1 and applied[0]["data"]["ok"] is True
    ok_results = Counter(
        json.dumps(c["data"]["arguments"], sort_keys=True)
        for c in evs
        if c["type"] == "tool.call"
        and any(
            r["type"] == "tool.result" and r["call_id"] == c["call_id"] and r["data"]["ok"]
            for r in evs
        )
    )
    assert all(n == 1 for n in ok_results.values()), ok_results


def assert_paired(evs: list[dict]) -> None:
    """Every approval.requested has exactly one approval.resolved; every call one outcome."""
    asked = Counter(e["data"]["approval_id"] for e in evs if e["type"] == "approval.requested")
    answered = Counter(e["data"]["approval_id"] for e in evs if e["type"] == "approval.resolved")
    assert asked == answered and set(answered.values()) <= {1}, (asked, answered)
    calls = Counter(e["call_id"] for e in evs if e["type"] == "tool.call")
    outcomes = Counter(e["call_id"] for e in evs if e["type"] in ("tool.result", "tool.refused"))
    assert calls == outcomes, (calls, outcomes)


def _dump(evs: list[dict]) -> str:
    return "\n".join(f"{e['seq']} {e['type']} {json.dumps(e['data'])[:160]}" for e in evs)


@settings(
    max_examples=int(os.environ.get("CRASH_EXAMPLES", "4")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(point=st.sampled_from(POINTS), nth=st.integers(1, 3))
@example(point="requested", nth=2)
@example(point="approved", nth=1)
@example(point="executing", nth=2)
@example(point="executing", nth=3)
@example(point="result", nth=2)
@example(point="approved", nth=2)
def test_kill9_at_any_point_of_a_tool_call_then_resume_repeats_nothing_finished(point, nth):
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        _ws, evs, seen_by_model, runs = crash_and_resume(Path(tmp), point, nth)
        check_resume(point, nth, evs, seen_by_model, runs)


def test_an_interrupted_call_asks_again_even_where_a_rule_allows_it(tmp_path: Path):
    """`echo *` is allowed by the user's policy, so c1 and c3 never ask; c1's result is lost
    (killed after it ran): re-running it asks, naming the interruption; c3 still does not ask."""
    policy = '[allow]\nshell = ["echo *"]\n'
    _ws, evs, _seen, runs = crash_and_resume(tmp_path, "executing", 1, policy)
    assert runs == {"c1": 2, "c3": 1}  # c1 ran, was lost, and the user approved it again
    resumed_at = max(i for i, e in enumerate(evs) if e["type"] == "run.resumed")
    asks = [e["data"] for e in evs[resumed_at:] if e["type"] == "approval.requested"]
    assert [(a["tool"], bool(a.get("interrupted"))) for a in asks] == [
        ("shell", True),
        ("write_file", False),
    ]
    assert "echo c1" in asks[0]["preview"]["summary"]


def test_a_session_killed_mid_call_is_closed_and_the_repeat_asks(tmp_path: Path):
    """Sessions: `echo *` is allowed; the daemon dies after `echo s1 >> counter.log` ran but
    before its result was written. The next start closes it (`tool.result` interrupted, effects
    unknown) before `session.interrupted`; in the next turn the model sees that and calls it
    again, which asks the user (naming the interruption) although the rule allows it."""
    ws = make_repo(tmp_path / "ws", SPEC, "crash")
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.toml").write_text('[allow]\nshell = ["echo *"]\n')
    s1 = {"tool_calls": [{"name": "shell", "arguments": {"command": "echo s1 >> counter.log"}}]}
    fake = start_fake(tmp_path, s1, s1, {"text": "Ran it again."})
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url)
    d1 = start_agentd(tmp_path, data, env={**env, "HARNESS_TEST_KILL_AT": "executing:1"})
    try:
        api = Api(d1.url)
        sid = api.post("/v1/sessions", {"workspace": str(ws), "model": MODEL})["id"]
        api.post(f"/v1/sessions/{sid}/messages", {"text": "log s1"}, status=202)
        wait_for(lambda: d1.proc.poll() is not None, 30, what="agentd to die mid-call")
        api.close()
    finally:
        d1.kill9()
    d2 = start_agentd(tmp_path, data, env=env, name="agentd-2")
    try:
        api = Api(d2.url)
        assert api.get(f"/v1/sessions/{sid}")["status"] == "interrupted"
        before = api.events(sid, "sessions")
        assert [e["type"] for e in before[-2:]] == ["tool.result", "session.interrupted"]
        lost = before[-2]["data"]
        assert lost["error_code"] == "interrupted" and lost["data"]["effects"] == "unknown"
        api.post(f"/v1/sessions/{sid}/messages", {"text": "go on"}, status=202)
        ask = api.wait_approval(sid)
        assert ask["preview"]["summary"].startswith("interrupted: effects unknown")
        api.post(f"/v1/sessions/{sid}/approvals/{ask['id']}", {"decision": "approve"})
        wait_for(
            lambda: any(
                e["type"] == "turn.completed" for e in api.events(sid, "sessions")[len(before) :]
            ),
            30,
            what="the second turn to end",
        )
        evs = api.events(sid, "sessions")
        seen_by_model = httpx.get(fake.url.removesuffix("/v1") + "/_fake/requests").json()
        api.close()
    finally:
        d2.stop()
        fake.stop()
    assert_paired(evs)
    assert (ws / "counter.log").read_text().split() == ["s1", "s1"]  # once lost, once approved
    told = [m for m in seen_by_model[1]["messages"] if m["role"] == "tool"]
    assert "interrupted: effects unknown" in told[0]["content"]


def test_sigterm_mid_call_records_it_interrupted_and_a_denied_rerun_is_not_run(tmp_path: Path):
    """SIGTERM while an allowed `sleep 20` runs: agentd itself writes the call's `tool.result`
    (interrupted, effects unknown) before `run.interrupted`. On resume the call asks again; the
    user denies, the model is told it was not run again, the run completes without it."""
    spec = SPEC.replace("`grep -qx done out.txt`", "`true`")
    ws = make_repo(tmp_path / "ws", spec, "crash")
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.toml").write_text('[allow]\nshell = ["sleep *"]\n')
    sleep = {"tool_calls": [{"name": "shell", "arguments": {"command": "sleep 20"}}]}
    fake = start_fake(tmp_path, PLAN, sleep, {"text": "Skipped it."}, {"text": "No docs."})
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url)
    d1 = start_agentd(tmp_path, data, env=env)
    try:
        api = Api(d1.url)
        rid = api.start_run(ws, MODEL, spec="specs/crash/spec.md")["id"]
        wait_for(
            lambda: any(e["type"] == "tool.call" for e in api.events(rid)), 30, what="the call"
        )
        time.sleep(0.3)
        api.close()
    finally:
        assert d1.stop() == 0, d1.stderr()[-2000:]
    d2 = start_agentd(tmp_path, data, env=env, name="agentd-2")
    try:
        api = Api(d2.url)
        before = api.events(rid)
        assert [e["type"] for e in before[-2:]] == ["tool.result", "run.interrupted"], _dump(before)
        assert before[-2]["data"]["data"]["effects"] == "unknown"
        assert before[-1]["data"]["reason"] == "the harness stopped"  # written by agentd 1 itself
        api.start_run(ws, MODEL, spec="specs/crash/spec.md", resume=rid)
        ask = api.wait_approval(rid)
        assert ask["preview"]["summary"].startswith("interrupted: effects unknown")
        api.approve(rid, ask["id"], "deny")
        final = api.wait_status(rid)
        evs = api.events(rid)
        seen_by_model = httpx.get(fake.url.removesuffix("/v1") + "/_fake/requests").json()
        api.close()
    finally:
        d2.stop()
        fake.stop()
    assert final["status"] == "completed", _dump(evs)
    assert_paired(evs)
    told = [m for m in seen_by_model[2]["messages"] if m["role"] == "tool"]
    assert told[0]["content"].startswith("interrupted: effects unknown; not run again")
