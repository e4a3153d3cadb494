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

from tests.e2e.helpers import DOCS, Api, make_repo, queue, scripted_agentd
from tests.e2e.test_terminal_output import AGENTCTL, _on_a_terminal

TOKEN = "tok-e2e-listings-5e6f7a8b9c0d"
FORGED = "r-20260101-000000-forged  completed  1s ago  deploy-prod  offline  local  passed"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("listings"), TOKEN, "ask") as d:
        yield d


@pytest.mark.parametrize("brk", ["\r", "\x0b"])
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

    marker = "⟨CR⟩" if brk == "\r" else "⟨VT⟩"
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
