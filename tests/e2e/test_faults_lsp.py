"""kill -9 of `harness-ls` (the language server on stdio) mid-run: the next start marks the run
interrupted, and every event written before the kill is still readable."""

from __future__ import annotations

from pathlib import Path

from harness_ls.store import RunStore
from tests.e2e.helpers import (
    PLAN,
    SPEC,
    WRITE,
    RawLsp,
    clean_env,
    make_repo,
    wait_for,
    write_script,
)


def test_kill9_of_harness_ls_mid_run_is_marked_interrupted_on_next_start(tmp_path: Path):
    ws = make_repo(tmp_path / "ws")
    data = tmp_path / "data"
    model = write_script(tmp_path / "s.json", PLAN, WRITE)
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data))
    opts = {"harness": {"model": model, "sidecar": {"enabled": True, "port": 0}}}
    uri = (ws / "specs" / "greet" / "spec.md").as_uri()

    lsp = RawLsp(ws, env, tmp_path / "logs", "harness-ls-1")
    try:
        lsp.initialize(ws, opts)
        lsp.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "markdown", "version": 1, "text": SPEC}})  # fmt: skip
        lsp.next_id += 1
        rid = lsp.next_id
        from tests.e2e.helpers import frame

        lsp.send_raw(frame({"jsonrpc": "2.0", "id": rid, "method": "workspace/executeCommand",
                            "params": {"command": "harness.runSpec", "arguments": [uri]}}))  # fmt: skip
        store = RunStore(data)

        def waiting():
            lsp.answer_server_requests()
            runs = store.list("run")
            return runs and runs[0].status == "waiting_approval" and runs[0]

        run = wait_for(waiting, 40, every=0.1, what="the run to wait for an approval")
        before = [e.model_dump() for e in store.reader("run", run.id).read()]
        assert lsp.garbage == []
    finally:
        lsp.proc.kill()
        lsp.proc.wait(10)

    lsp2 = RawLsp(ws, env, tmp_path / "logs", "harness-ls-2")
    try:
        lsp2.initialize(ws, opts)
        store = RunStore(data)
        wait_for(lambda: store.get("run", run.id).status == "interrupted", 30, every=0.1,
                 what="the run to be marked interrupted")  # fmt: skip
        after = [e.model_dump() for e in store.reader("run", run.id).read()]
        assert after[: len(before)] == before
        # the pending approval and its call are closed first (issue 26), then the run
        assert [e["type"] for e in after[len(before) :]] == [
            "approval.resolved",
            "tool.result",
            "run.interrupted",
        ]
        assert after[len(before)]["data"]["surface"] == "recovery"
        assert [e["seq"] for e in after] == list(range(1, len(after) + 1))
        assert lsp2.garbage == []
    finally:
        assert lsp2.close() == 0
    assert "Traceback" not in lsp2.err.read_text()
