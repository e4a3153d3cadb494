"""Listings print one row per thing listed, whatever its name holds.

A run is titled by its spec's folder, which a cloned repository names: on eafb02f a folder
`fix\\nr-<id>  completed …` made `agentctl list` print a second row for a run that does not
exist (and `\\r` overwrote the real row). Real agentd and a real agentctl on a pseudo-terminal
and through a pipe; `--json` keeps the bytes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import DOCS, Api, make_repo, queue, run_denying, scripted_agentd
from tests.e2e.test_terminal_output import AGENTCTL, _on_a_terminal

TOKEN = "tok-e2e-listings-5e6f7a8b9c0d"
FORGED = "r-20260101-000000-forged  completed  1s ago  deploy-prod  offline  local  passed"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("listings"), TOKEN, "auto-edit") as d:
        yield d


@pytest.mark.parametrize("brk", ["\r", "\x0b", "\x1b[32m"])
def test_a_spec_folder_name_cannot_add_a_row_to_agentctl_list(daemon, tmp_path: Path, brk):
    name = f"fix{brk}{FORGED}"
    ws = make_repo(tmp_path / "ws", name=name)
    queue(daemon.extra["fake"].url, {"text": json.dumps({"steps": [{"title": "x"}]})},
          {"text": "done"}, DOCS)  # fmt: skip
    api = Api(daemon.url, TOKEN)
    run_id = api.start_run(ws, "openai:gpt-4o-mini", spec=f"specs/{name}/spec.md")["id"]
    final = api.wait_status(run_id, 120)
    api.close()
    assert final["title"] == name  # the title holds the break; the listing must not

    marker = {"\r": "⟨CR⟩", "\x0b": "⟨VT⟩", "\x1b[32m": "⟨ESC⟩[32m"}[brk]
    env = daemon.extra["env"]
    as_json = subprocess.run([*AGENTCTL, "list", "--json"], cwd=ws, env=env,
                             capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    listed = json.loads(as_json.stdout)
    assert {x["id"]: x["title"] for x in listed}[run_id] == name  # --json keeps the bytes
    shown = _on_a_terminal(daemon, ws, "list").replace("\r\n", "\n")
    piped = subprocess.run([*AGENTCTL, "list"], cwd=ws, env=env, capture_output=True,
                           text=True, timeout=60, check=True).stdout  # fmt: skip
    for out in (shown, piped):
        rows = [ln for ln in out.splitlines() if ln.strip()]
        assert rows[0].split()[:4] == ["RUN", "STATUS", "CREATED", "TITLE"]
        assert [row.split()[0] for row in rows[1:]] == [x["id"] for x in listed], out
        ours = next(row for row in rows if row.startswith(run_id))
        assert f"fix{marker}r-20260101-000000-forged" in ours


def test_a_models_colour_codes_cannot_recolour_agentctl_diff(daemon, tmp_path: Path) -> None:
    """`for_terminal` lets agentctl's own colour codes through, and a model's `ESC[31m` is the
    same bytes: on eafb02f an added line painted itself red (a deleted line's colour) and
    `ESC[0m` ended agentctl's green. A coloured diff now reveals the file bytes before painting."""
    ws = make_repo(tmp_path / "ws")
    evil = "ok \x1b[31mrm -rf ~\x1b[0m\n"
    write = {"name": "write_file", "arguments": {"path": "notes.txt", "content": evil}}
    r = run_denying(daemon, TOKEN, ws, {"tool_calls": [write]})
    assert (ws / "notes.txt").read_text() == evil

    shown = _on_a_terminal(daemon, ws, "diff", r.run_id)
    assert "\x1b[32m+ok ⟨ESC⟩[31mrm -rf ~⟨ESC⟩[0m\x1b[0m" in shown, repr(shown)
    assert "\x1b[31mrm" not in shown
    piped = subprocess.run([*AGENTCTL, "diff", r.run_id], cwd=ws, env=daemon.extra["env"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "+" + evil.rstrip("\n") in piped.stdout.splitlines()  # a patch keeps its bytes
