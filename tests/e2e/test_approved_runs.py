"""Approved = what runs (issue 31, rows 13 and 14), end to end: a real agentd, the fake
OpenAI-compatible server as a process, real git repos; the user's answers are denials except
the one approval each scenario is about.

Row 13 by class: an approved write whose target changed while the approval waited (created,
edited, deleted, replaced by a symlink) does not run; it asks again with a fresh preview
naming the change, and the user's file survives the denial.
Row 14 by class: a call the user refused — the "interrupted: effects unknown" re-ask after a
crash, or a plain denial later covered by "approve similar" — is held for the run: every
identical repeat asks again although a rule allows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    TERMINAL,
    Api,
    clean_env,
    make_repo,
    queue,
    start_agentd,
    start_fake,
    wait_for,
)

TOKEN = "tok-e2e-approved-runs-5e4d3c2b1a09"
PLAN = {"text": '{"steps": [{"title": "Do the thing"}]}'}
DOCS = {"text": "Nothing to document."}
SPEC = (
    "# Goal\n\nWrite the files.\n\n# Constraints / nuances\n\n- None.\n\n"
    "# Acceptance tests\n\n- `true`\n"
)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("approved")
    data = root / "data"
    fake = start_fake(root, default={"text": "nothing more"})
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN,
                    OPENAI_API_KEY="sk-fake-approved", OPENAI_BASE_URL=fake.url)  # fmt: skip
    d = start_agentd(root, data, env=env)
    d.extra.update(data=data, fake=fake)
    yield d
    d.stop()
    fake.stop()


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _events_of(api: Api, rid: str, kind: str) -> list[dict]:
    return [e for e in api.events(rid) if e["type"] == kind]


def _user_changes(ws: Path, how: str, outside: Path) -> str:
    """What the user does to the target while the approval waits; the file's text after."""
    target = ws / "greet.txt"
    if how == "created":
        (ws / "new.txt").write_text("the user's own new file\n")
        return "the user's own new file\n"
    if how == "edited":
        target.write_text("hi, edited by the user\n")
        return "hi, edited by the user\n"
    if how == "deleted":
        target.unlink()
        return ""
    if how == "symlinked-out":
        outside.write_text("outside the workspace\n")
        target.unlink()
        target.symlink_to(outside)
        return "outside the workspace\n"
    (ws / "notes.txt").write_text("the user's notes\n")  # a link to another file of the user's
    target.unlink()
    target.symlink_to("notes.txt")
    return "the user's notes\n"


CHANGES = {
    "created": ("new.txt", "was created while the approval waited"),
    "edited": ("greet.txt", "was edited while the approval waited"),
    "deleted": ("greet.txt", "was deleted while the approval waited"),
    "symlinked": ("greet.txt", "replaced while the approval waited"),
    "symlinked-out": ("greet.txt", "replaced while the approval waited"),
}


@pytest.mark.parametrize("how", sorted(CHANGES))
def test_an_approved_write_whose_target_changed_asks_again(daemon, tmp_path, how):
    """Row 13: the user approves "write <file>"; meanwhile the file was created / edited /
    deleted / swapped for a symlink (to another file of theirs, or out of the workspace).
    Nothing is written; a fresh approval shows the change and the new diff (a link out of the
    workspace is refused outright); denied, the user's file is as they left it."""
    path, words = CHANGES[how]
    ws = make_repo(tmp_path / "ws", SPEC, "w")
    outside = tmp_path / "outside.txt"
    queue(daemon.extra["fake"].url, PLAN, _call("write_file", path=path, content="agent\n"),
          {"text": "done"}, DOCS)  # fmt: skip
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, "openai:gpt-4o-mini", spec="specs/w/spec.md")["id"]
    first = api.wait_approval(rid)
    assert first["tool"] == "write_file"
    left = _user_changes(ws, how, outside)
    api.approve(rid, first["id"], "approve")
    seen = [first]

    def answer() -> dict | None:
        for a in api.approvals(rid):
            seen.append(a)
            api.approve(rid, a["id"], "deny")
        m = api.run(rid)
        return m if m["status"] in TERMINAL else None

    final = wait_for(answer, 90, every=0.1, what="the run to end")
    assert final["status"] in TERMINAL
    if how == "symlinked-out":  # the target now leaves the workspace: refused, nothing asked
        refused = [e["data"]["reason"] for e in _events_of(api, rid, "tool.refused")]
        assert len(seen) == 1 and any("outside" in r or "symlink" in r for r in refused), refused
    else:
        assert len(seen) == 2, [a["preview"]["summary"] for a in seen]
        again = seen[1]
        assert again["tool"] == "write_file" and words in again["preview"]["summary"]
        if how != "deleted":
            assert f"-{left.splitlines()[0]}" in again["preview"]["diff"]
    target = ws / ("notes.txt" if how == "symlinked" else path)
    if how == "deleted":
        assert not target.exists()
    else:
        assert target.read_text() == left
    results = _events_of(api, rid, "tool.result")
    assert any(r["data"]["error_code"] == "target_changed" for r in results)
    assert not any(r["data"]["name"] == "write_file" and r["data"]["ok"] for r in results)
    api.close()


def test_a_denial_holds_for_the_run_even_after_approve_similar(daemon, tmp_path):
    """The user denies `touch a.txt`, then answers "approve similar" for `touch b.txt` (a
    session rule `touch *`); the model asks for `touch a.txt` again: the rule would allow it,
    the denial holds, it asks — and is denied again."""
    ws = make_repo(tmp_path / "ws", SPEC, "w")
    touch = lambda name: _call("shell", command=f"touch {name}")  # noqa: E731
    queue(daemon.extra["fake"].url, PLAN, touch("a.txt"), touch("b.txt"), touch("a.txt"),
          touch("c.txt"), {"text": "done"}, DOCS)  # fmt: skip
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, "openai:gpt-4o-mini", spec="specs/w/spec.md")["id"]
    asked: list[str] = []

    def answer() -> dict | None:
        for a in api.approvals(rid):
            asked.append(a["preview"]["command"])
            body = {"decision": "approve", "scope": "similar"} if "b.txt" in asked[-1] else {
                "decision": "deny"}  # fmt: skip
            api.post(f"/v1/runs/{rid}/approvals/{a['id']}", body)
        m = api.run(rid)
        return m if m["status"] in TERMINAL else None

    final = wait_for(answer, 90, every=0.1, what="the run to end")
    assert asked == ["touch a.txt", "touch b.txt", "touch a.txt"], asked
    assert (ws / "b.txt").exists() and (ws / "c.txt").exists() and not (ws / "a.txt").exists()
    held = [e["data"] for e in _events_of(api, rid, "approval.requested")][-1]
    assert held["held"] is True and "denied this identical call" in held["preview"]["summary"]
    assert final["status"] in TERMINAL
    api.close()


def test_a_denied_interrupted_call_is_held_for_every_identical_repeat(tmp_path: Path):
    """Row 14: `echo *` is allowed. The daemon dies after `echo c1 >> counter.log` ran; on
    resume the call asks "interrupted: effects unknown"; the user denies; the model asks for
    the identical call (with its words spaced differently, then the same): each asks again,
    each is denied. c1 ran exactly once (before the crash)."""
    ws = make_repo(tmp_path / "ws", SPEC, "w")
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.toml").write_text('[allow]\nshell = ["echo *"]\n')
    c1 = "echo c1 >> counter.log"
    fake = start_fake(tmp_path, PLAN, _call("shell", command=c1),
                      _call("shell", command="echo  c1  >>  counter.log"),
                      _call("shell", command=c1, timeout=30), {"text": "gave up"}, DOCS)  # fmt: skip
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url)
    d1 = start_agentd(tmp_path, data, env={**env, "HARNESS_TEST_KILL_AT": "executing:1"})
    try:
        api = Api(d1.url)
        rid = api.start_run(ws, "openai:gpt-4.1-mini", spec="specs/w/spec.md")["id"]
        wait_for(lambda: d1.proc.poll() is not None, 60, what="agentd to die mid-call")
        api.close()
    finally:
        d1.kill9()
    d2 = start_agentd(tmp_path, data, env=env, name="agentd-2")
    try:
        api = Api(d2.url)
        api.start_run(ws, "openai:gpt-4.1-mini", spec="specs/w/spec.md", resume=rid)
        asked: list[dict] = []

        def deny_all() -> dict | None:
            for a in api.approvals(rid):
                asked.append(a)
                api.approve(rid, a["id"], "deny")
            m = api.run(rid)
            return m if m["status"] in TERMINAL else None

        final = wait_for(deny_all, 90, every=0.1, what="the resumed run to end")
        evs = api.events(rid)
        api.close()
    finally:
        d2.stop()
        fake.stop()
    assert (ws / "counter.log").read_text().split() == ["c1"]
    summaries = [a["preview"]["summary"] for a in asked]
    assert len(asked) == 3, summaries
    assert all(s.startswith("interrupted: effects unknown") for s in summaries), summaries
    requested = [e["data"] for e in evs if e["type"] == "approval.requested"]
    assert all(r.get("interrupted") and r.get("held") for r in requested[-3:])
    assert final["status"] in TERMINAL
