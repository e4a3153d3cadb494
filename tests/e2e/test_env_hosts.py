"""Every host loads `.env.local` the same way (issue 32, item 1): one function,
`harness_ls.config.load_env`, checked here from each host as a user starts it — `harness-ls` from
an editor (in the project, or elsewhere with the project as its root), `agentd`, an agentctl
local command that resolves a model, and `agentctl acp`. The model named in `.env.local` must be
the one that runs (with `HARNESS_MODEL` as the reason), never offline or "the first configured
provider" of `.harness/models.toml`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness_ls.store import RunStore
from harness_ls.trust import trust_config
from tests.e2e.helpers import (
    DOCS,
    DONE,
    PLAN,
    WRITE,
    Api,
    RawLsp,
    clean_env,
    frame,
    make_repo,
    start_agentd,
    start_fake,
    wait_for,
)

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
MODEL = "openai:gpt-4.1-mini"
# A models.toml whose provider would be "the first configured" one if .env.local were not read.
MODELS_TOML = """
[providers.decoy]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"

[[models]]
id = "decoy-model"
provider = "decoy"
"""


def project(root: Path, fake_url: str) -> Path:
    """The user's own project: its `.env.local` re-points a base URL, which only a trusted file
    may do (`agentctl policy trust --file .env.local`, done here for both data dirs the tests use;
    the untrusted case is tests/e2e/test_config_trust.py)."""
    ws = make_repo(root / "ws")
    (ws / ".env.local").write_text(f"HARNESS_MODEL={MODEL}\nOPENAI_BASE_URL={fake_url}\n")
    for data in (root / "data", root / "other"):
        data.mkdir(mode=0o700, exist_ok=True)
        trust_config(data, ws, ".env.local")
    (ws / ".harness").mkdir(exist_ok=True)
    (ws / ".harness" / "models.toml").write_text(MODELS_TOML)
    return ws


def started(data: Path, run_id: str) -> dict:
    evs = list(RunStore(data).reader("run", run_id).read())
    return next(e.data for e in evs if e.type == "run.started")


@pytest.mark.parametrize("cwd", ["project", "elsewhere"])
def test_harness_ls_reads_the_projects_env_local(tmp_path: Path, procs, cwd: str):
    fake = start_fake(tmp_path, PLAN, WRITE, DONE, DOCS)
    procs.append(fake)
    ws = project(tmp_path, fake.url)
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data))
    start_in = ws if cwd == "project" else tmp_path / "home"  # an editor started elsewhere
    opts = {"harness": {"sidecar": {"enabled": False}, "policyMode": "full-auto"}}
    uri = (ws / "specs" / "greet" / "spec.md").as_uri()
    lsp = RawLsp(start_in, env, tmp_path / "logs")
    try:
        lsp.initialize(ws, opts)
        lsp.next_id += 1
        lsp.send_raw(frame({"jsonrpc": "2.0", "id": lsp.next_id, "method": "workspace/executeCommand",
                            "params": {"command": "harness.runSpec", "arguments": [uri]}}))  # fmt: skip
        store = RunStore(data)

        def ended():
            lsp.answer_server_requests()
            runs = store.list("run")
            return runs and runs[0].status in ("completed", "failed") and runs[0]

        run = wait_for(ended, 60, every=0.1, what="the run to end")
    finally:
        lsp.close()
    first = started(data, run.id)
    assert (first["model"], first["reason"], first["offline"]) == (
        MODEL,
        f"{MODEL} (HARNESS_MODEL)",
        False,
    )
    assert run.status == "completed", lsp.err.read_text()[-2000:]
    assert (ws / "greet.txt").read_text() == "hello\n"
    assert httpx.get(fake.url.removesuffix("/v1") + "/_fake/requests").json()


def test_agentd_reads_its_directorys_env_local(tmp_path: Path, procs):
    fake = start_fake(tmp_path, PLAN, WRITE, DONE, DOCS)
    procs.append(fake)
    ws = project(tmp_path, fake.url)
    data = tmp_path / "data"
    (data / "policy.toml").parent.mkdir(parents=True, exist_ok=True)
    (data / "policy.toml").write_text('mode = "full-auto"\n')
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data))
    from harness_ls.testing.owner import owner_data_dir

    owner_data_dir(data)
    from tests.e2e.helpers import AGENTD, spawn

    d = spawn([*AGENTD, "--listen", "127.0.0.1:0"], ws, env, tmp_path / "logs", "agentd")
    procs.append(d)
    d.url = wait_for(lambda: "dashboard at " in d.stdout() and d.stdout().split(
        "dashboard at ", 1)[1].split()[0].rstrip("/"), 40, what="agentd's URL")  # fmt: skip
    api = Api(d.url)
    rid = api.post("/v1/runs", {"workspace": str(ws), "spec": "specs/greet/spec.md"})["id"]
    meta = api.wait_status(rid, 60)
    assert meta["status"] == "completed", meta
    first = started(data, rid)
    assert (first["model"], first["reason"]) == (MODEL, f"{MODEL} (HARNESS_MODEL)")


def test_agentctl_local_command_reads_env_local(tmp_path: Path, procs):
    """`agentctl spec prompt` resolves a model here, without a daemon."""
    from tests.e2e.helpers import SPEC

    fake = start_fake(tmp_path, {"text": SPEC})
    procs.append(fake)
    ws = project(tmp_path, fake.url)
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run(
        [*AGENTCTL, "spec", "prompt", "--prompt", "Say hello", "hello"],
        cwd=ws, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    seen = httpx.get(fake.url.removesuffix("/v1") + "/_fake/requests").json()
    assert seen and seen[0]["model"] == MODEL.split(":", 1)[1]
    assert (ws / "specs" / "hello" / "spec.md").read_text().startswith("# Goal")


def test_agentctl_acp_reads_env_local_for_the_daemon_and_token(tmp_path: Path, procs):
    from acp import spawn_agent_process

    data = tmp_path / "data"
    token = "env-local-token-0123456789abcdef"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=token)
    agentd = start_agentd(tmp_path, data, env=env)
    procs.append(agentd)
    ws = make_repo(tmp_path / "ws")
    (ws / ".env.local").write_text(f"HARNESS_URL={agentd.url}\nHARNESS_AUTH_TOKEN={token}\n")
    # another data dir: neither its endpoint file nor its token file can be what connects;
    # HARNESS_URL is taken from a .env.local only once the user trusts it there
    (tmp_path / "other").mkdir(mode=0o700)
    trust_config(tmp_path / "other", ws, ".env.local")
    acp_env = clean_env(tmp_path / "home2", HARNESS_DATA_DIR=str(tmp_path / "other"))

    class Editor:
        async def session_update(self, *a, **k):
            return None

        async def request_permission(self, *a, **k):  # pragma: no cover - nothing is asked
            raise AssertionError("no permission expected")

    async def go() -> str:
        async with spawn_agent_process(
            lambda _a: Editor(), *AGENTCTL, "acp", env=acp_env, cwd=str(ws)
        ) as (conn, _proc):
            await conn.initialize(protocol_version=1)
            return (await conn.new_session(cwd=str(ws), mcp_servers=[])).session_id

    sid = asyncio.run(asyncio.wait_for(go(), 60))
    assert Api(agentd.url, token).get(f"/v1/sessions/{sid}")["workspace"] == str(ws)
