"""Approvals in the editor: approval requested -> visible in the client, and HTTP answer ->
gone (targets p99 <= 50 ms and <= 100 ms, issues 9 and 20), for a push-only client (Emacs eglot,
Sublime LSP: publishDiagnostics) and a pull client (VS Code: workspace/diagnostic/refresh, then
textDocument/diagnostic on the spec).

Spawns `harness-ls` with a raw JSON-RPC client, runs a scripted spec that asks for N writes, and
answers each approval over the sidecar's HTTP API. `requested_at` (ms) comes from the broker, so
the first figure includes the broker -> LSP -> client hop end to end (and the pull round trip).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

from harness_ls.auth_token import client_token
from harness_ls.testing.lsp_client import RawLspClient

SPEC = "# Goal\n\nWrite the files.\n\n# Constraints / nuances\n\n- none\n\n# Acceptance tests\n\n- `true`\n"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def approval_diags(msg: dict, uri: str) -> list[dict] | None:
    if msg.get("method") != "textDocument/publishDiagnostics" or msg["params"]["uri"] != uri:
        return None
    return [d for d in msg["params"]["diagnostics"] if d.get("source") == "harness"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30, help="approvals to measure")
    ap.add_argument("--client", choices=["push", "pull", "both"], default="both")
    args = ap.parse_args()
    for mode in ("push", "pull") if args.client == "both" else (args.client,):
        measure(mode, args.n)


def pulled(c: RawLspClient, uri: str) -> tuple[float, list[dict]]:
    """Pull the spec's diagnostics like VS Code after a refresh: (arrival, approval items)."""
    rid = c.send("textDocument/diagnostic", {"textDocument": {"uri": uri}}, request=True)
    t, msg = c.wait(lambda m: m.get("id") == rid and "method" not in m)
    items = (msg.get("result") or {}).get("items") or []
    return t, [d for d in items if d.get("source") == "harness"]


def measure(mode: str, n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    ws = tmp / "repo"
    (ws / "specs" / "b").mkdir(parents=True)
    git(ws, "init", "-q", "-b", "main")
    (ws / "specs" / "b" / "spec.md").write_text(SPEC)
    for i in range(n):
        (ws / f"f{i}.txt").write_text("old\n")
    git(ws, "add", "-A")
    git(ws, "-c", "user.email=b@x", "-c", "user.name=b", "commit", "-qm", "init")
    responses = [{"text": '{"steps": [{"title": "Write the files", "spec_line": 2}]}'}]
    responses += [
        {
            "tool_calls": [
                {"name": "write_file", "arguments": {"path": f"f{i}.txt", "content": f"new {i}\n"}}
            ]
        }
        for i in range(n)
    ]
    responses += [{"text": "Done."}, {"text": "No docs."}]
    script = tmp / "script.json"
    script.write_text(json.dumps({"responses": responses}))
    env = dict(os.environ, HARNESS_DATA_DIR=str(tmp / "data"))
    epoch_offset = time.time() - time.perf_counter()  # arrival stamps are perf_counter
    c = RawLspClient([str(Path(sys.executable).parent / "harness-ls")], env)
    caps: dict = {
        "textDocument": {"publishDiagnostics": {}, "codeAction": {}},
        "workspace": {"workspaceFolders": True},
    }
    if mode == "pull":
        caps["textDocument"]["diagnostic"] = {}
        caps["workspace"]["diagnostics"] = {"refreshSupport": True}
    rid = c.send("initialize", {"processId": os.getpid(), "rootUri": ws.as_uri(), "capabilities": caps,
                                "initializationOptions": {"harness": {"model": f"scripted:{script}", "sidecar": {"port": 0}}}},
                 request=True)  # fmt: skip
    c.wait(lambda m: m.get("id") == rid)
    c.send("initialized", {})
    spec_uri = (ws / "specs" / "b" / "spec.md").as_uri()
    c.send(
        "textDocument/didOpen",
        {"textDocument": {"uri": spec_uri, "languageId": "markdown", "version": 1, "text": SPEC}},
    )
    deadline = time.time() + 30
    while not list((tmp / "data" / "endpoints").glob("*.json")) and time.time() < deadline:
        time.sleep(0.05)
    url = json.loads(next((tmp / "data" / "endpoints").glob("*.json")).read_text())["url"]
    rid = c.send(
        "workspace/executeCommand",
        {"command": "harness.runSpec", "arguments": [spec_uri]},
        request=True,
    )
    _, res = c.wait(lambda m: m.get("id") == rid)
    run_id = res["result"]["runId"]
    shown, cleared = [], []
    token, _ = client_token(tmp / "data")  # as agentctl finds it: env, else the token file
    with httpx.Client(timeout=30, headers={"authorization": f"Bearer {token}"}) as http:
        for i in range(n):
            uri = (ws / f"f{i}.txt").as_uri()
            if mode == "push":
                t_pub, msg = c.wait(lambda m, u=uri: bool(approval_diags(m, u)))
                aid = approval_diags(msg, uri)[0]["data"]["approval_id"]
            else:
                found: list[dict] = []
                while not found:
                    c.wait(lambda m: m.get("method") == "workspace/diagnostic/refresh")
                    t_pub, found = pulled(c, spec_uri)
                aid = found[0]["data"]["approval_id"]
            pending = http.get(f"{url}/v1/approvals").json()
            items = (
                pending
                if isinstance(pending, list)
                else pending.get("approvals", pending.get("items", []))
            )
            req = next(a for a in items if a["id"] == aid)["requested_at"]
            t_req = datetime.fromisoformat(req.replace("Z", "+00:00")).timestamp()
            shown.append((t_pub + epoch_offset - t_req) * 1000)
            t0 = time.perf_counter()
            r = http.post(f"{url}/v1/runs/{run_id}/approvals/{aid}", json={"decision": "approve"})
            r.raise_for_status()
            if mode == "push":
                t_clear, _ = c.wait(lambda m, u=uri: approval_diags(m, u) == [])
            else:
                while True:
                    c.wait(lambda m: m.get("method") == "workspace/diagnostic/refresh")
                    t_clear, left = pulled(c, spec_uri)
                    if all(d["data"]["approval_id"] != aid for d in left):
                        break
            cleared.append((t_clear - t0) * 1000)
    c.kill()
    print(f"{n} approvals through harness-ls ({mode} client, scripted run, sidecar HTTP answers)")
    print(
        f"approval requested -> visible ({mode}): p50 {pct(shown, 0.5):.1f} ms, p99 {pct(shown, 0.99):.1f} ms, max {max(shown):.1f} ms  (target p99 <= 50 ms; ms-resolution timestamps)"
    )
    print(
        f"HTTP answer -> gone ({mode}): p50 {pct(cleared, 0.5):.1f} ms, p99 {pct(cleared, 0.99):.1f} ms, max {max(cleared):.1f} ms  (target p99 <= 100 ms)"
    )


if __name__ == "__main__":
    main()
