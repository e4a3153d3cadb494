"""The tools never read the data dir, even when the workspace holds it: a real agentd in mode
ask, the fake OpenAI server as a hostile model, every approval denied.

Commands never see the data dir (the sandbox hides it), but `read_file`, `list_dir` and `search`
run in the daemon, where reads are allowed unasked: a session or run on a workspace that holds
the data dir (your home folder, `~/.agent-harness` inside it) let the model read every other
run's log — other projects' code, diffs, approvals — and send it to the model (b139fd5). A path
whose real path is in the data dir is now refused by the tools' containment, and walks skip it.
"""

from __future__ import annotations

import httpx

from tests.e2e.helpers import git, make_repo, run_denying, scripted_agentd

TOKEN = "tok-e2e-data-dir-reads-8a7b6c5d4e3f"
MARK = "OTHER-PROJECT-CODE-7f3a"


def test_the_model_reads_nothing_of_the_data_dir_inside_its_workspace(tmp_path) -> None:
    with scripted_agentd(tmp_path, TOKEN, "ask") as daemon:
        ws = make_repo(tmp_path)  # the daemon's data dir is tmp_path/data: inside the workspace
        git(ws, "rm", "-q", "--cached", "-r", ".")  # nothing of the daemon's is tracked
        old = daemon.extra["data"] / "runs" / "r_old"
        old.mkdir(parents=True)
        (old / "events.ndjson").write_text(f'{{"data": "{MARK}"}}\n')
        (tmp_path / "data-link").symlink_to("data/runs/r_old")
        calls = [
            {"name": "read_file", "arguments": {"path": "data/runs/r_old/events.ndjson"}},
            {"name": "read_file", "arguments": {"path": "data-link/events.ndjson"}},
            {"name": "list_dir", "arguments": {"path": "data/runs"}},
            {"name": "search", "arguments": {"pattern": MARK[:12], "path": "."}},
            {"name": "search", "arguments": {"pattern": MARK[:12], "path": "data"}},
            {"name": "git_diff", "arguments": {}},
            {"name": "list_dir", "arguments": {"path": ".", "depth": 3}},
        ]
        greet = {"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}
        r = run_denying(daemon, TOKEN, ws, {"tool_calls": calls}, {"tool_calls": [greet]})
        sent = httpx.get(daemon.extra["fake"].url.removesuffix("/v1") + "/_fake/requests").text
    assert MARK not in sent, sent[sent.find(MARK) - 600 : sent.find(MARK) + 50]
    done = [e["data"] for e in r.events if e["type"] in ("tool.result", "tool.refused")]
    refused = [d["reason"].split(" is in ")[0] for d in done if "data dir" in d.get("reason", "")]
    assert refused == [
        "data/runs/r_old/events.ndjson", "data/runs/r_old/events.ndjson", "data/runs", "data",
    ]  # fmt: skip
    outputs = {d["name"]: d["output"] for d in done if "output" in d}
    assert outputs["search"] == "no matches for 'OTHER-PROJEC' in ."
    assert "data/" not in outputs["git_diff"] and "r_old" not in outputs["git_diff"]
    assert "specs/" in outputs["list_dir"] and "data/" not in outputs["list_dir"]
