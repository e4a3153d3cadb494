"""A run killed (kill -9) mid-run and resumed is one run (issue 32, items 3 and 4), through real
agentd processes, the fake model server as its own process and `agentctl`:

- `run.completed` totals (tokens, model calls, tool calls) are the sum over both segments;
- the resumed run's model reason is the one it started with (HARNESS_MODEL, not `--model`);
- checkpoint names are never reused: the fix and docs steps after the resume continue the
  numbering, and `diff --step N` (numbered from 1, as attach shows steps) reaches the resumed
  calls;
- `revert --call <id>` undoes one tool call with the same three-way rules, and a second revert
  with a standing conflict says "nothing to revert" without saving another pre-revert ref.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.helpers import Api, clean_env, git, make_repo, start_agentd, start_fake, wait_for

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
MODEL = "openai:gpt-4.1-mini"
SPEC = (
    "# Goal\n\nWrite a.txt, b.txt and c.txt.\n\n# Constraints / nuances\n\n- Nothing else.\n\n"
    "# Acceptance tests\n\n- `grep -qx c c.txt`\n"
)
PLAN = {"text": '{"steps": [{"title": "Write a.txt"}, {"title": "Write b.txt"}]}'}


def write(path: str, text: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": text}}]}


def agentctl(data: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(cwd.parent / "home", HARNESS_DATA_DIR=str(data))
    return subprocess.run([*AGENTCTL, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_a_resumed_run_keeps_its_books_and_its_checkpoint_names(tmp_path: Path, procs):
    ws = make_repo(tmp_path / "ws", SPEC, "abc")
    data = tmp_path / "data"
    fake = start_fake(
        tmp_path,
        PLAN, write("a.txt", "a\n"), {"text": "a done"}, write("b.txt", "b\n"),
        {"text": "b done"}, write("c.txt", "c\n"), {"text": "fixed"}, {"text": "No docs."},
    )  # fmt: skip
    procs.append(fake)
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url,
                    HARNESS_MODEL=MODEL)  # fmt: skip
    d1 = start_agentd(tmp_path, data, env=env, name="agentd-1")
    procs.append(d1)
    api = Api(d1.url)
    rid = api.post("/v1/runs", {"workspace": str(ws), "spec": "specs/abc/spec.md"})["id"]
    first = api.wait_approval(rid)
    api.approve(rid, first["id"])
    wait_for(lambda: api.wait_approval(rid, skip={first["id"]}), 30, what="the 2nd approval")
    d1.kill9()  # the second write is waiting for its approval

    d2 = start_agentd(tmp_path, data, env=env, name="agentd-2")
    procs.append(d2)
    api = Api(d2.url)
    assert api.run(rid)["status"] == "interrupted"
    api.post("/v1/runs", {"workspace": str(ws), "spec": "specs/abc/spec.md", "resume": rid})
    final = api.wait_status(rid, 90, approve=True)
    evs = api.events(rid)
    assert final["status"] == "completed", [e["type"] for e in evs]
    assert (ws / "c.txt").read_text() == "c\n" and (ws / "b.txt").read_text() == "b\n"

    # the books: every segment's model calls, tokens and tool calls
    done = next(e["data"] for e in evs if e["type"] == "run.completed")
    turns = [e["data"] for e in evs if e["type"] == "model.usage"]
    plan = next(e["data"]["usage"] for e in evs if e["type"] == "step.completed"
                and e["data"].get("phase") == "plan")  # fmt: skip
    assert done["usage"]["model_calls"] == len(turns) + plan["model_calls"] == 8
    assert (
        done["usage"]["input_tokens"]
        == sum(u["input_tokens"] for u in turns) + plan["input_tokens"]
    )
    assert done["tool_calls"] == sum(e["type"] == "tool.call" for e in evs) == 4  # b asked twice
    resumed = next(e["data"] for e in evs if e["type"] == "run.resumed")
    started = next(e["data"] for e in evs if e["type"] == "run.started")
    assert resumed["reason"] == started["reason"] == f"{MODEL} (HARNESS_MODEL)"

    # checkpoint names: unique, numbered from 1 like attach's steps, continued after the resume
    marks = [(e["data"]["name"], e["data"]["message"]) for e in evs
             if e["type"] == "checkpoint.created" and e["data"]["name"] != "final"]  # fmt: skip
    names = [n for n, _ in marks]
    assert names == ["1", "2", "3", "4"], marks
    assert "before step 3: Fix failing acceptance tests" in marks[2][1]
    assert "before step 4: Update documentation" in marks[3][1]
    step2 = agentctl(data, ws, "diff", "--stat", "--step", "2", rid)
    assert step2.returncode == 0 and "b.txt" in step2.stdout and "a.txt" not in step2.stdout
    step3 = agentctl(data, ws, "diff", "--stat", "--step", "3", rid)
    assert "c.txt" in step3.stdout and "b.txt" not in step3.stdout, step3.stdout

    # one tool call reverted, then again: nothing to revert
    calls = json.loads(agentctl(data, ws, "diff", "--json", rid).stdout)["calls"]
    by_path = {c["paths"][0]: c["call_id"] for c in calls if c["paths"]}
    one = agentctl(data, ws, "revert", "--call", by_path["b.txt"], rid)
    assert one.returncode == 0, one.stdout + one.stderr
    assert not (ws / "b.txt").exists() and (ws / "a.txt").exists() and (ws / "c.txt").exists()
    again = agentctl(data, ws, "revert", "--call", by_path["b.txt"], rid)
    assert again.returncode == 0 and "nothing to revert" in again.stdout

    # a standing conflict: reported each time, one pre-revert ref at most, never another
    (ws / "a.txt").write_text("mine\n")
    refs_before = _refs(data, rid)
    c1 = agentctl(data, ws, "revert", "--step", "1", rid)
    c2 = agentctl(data, ws, "revert", "--step", "1", rid)
    assert c1.returncode == c2.returncode == 6, c1.stdout + c2.stdout
    assert "nothing to revert" in c2.stdout and "conflict" in c2.stdout
    assert _refs(data, rid) == refs_before  # nothing written, nothing saved
    assert (ws / "a.txt").read_text() == "mine\n"
    assert "Traceback" not in d2.stderr()


def _refs(data: Path, rid: str) -> list[str]:
    shadow = next((data / "checkpoints").glob("*.git"))
    out = git(shadow, "--git-dir", str(shadow), "for-each-ref", "--format=%(refname)")
    return sorted(r for r in out.split() if "pre-revert" in r and rid in r)
