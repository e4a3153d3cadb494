"""The dashboard sidecar listens from start-up but loads its web stack on the first connection.

Checked on a real harness-ls process (pytest-lsp): after `initialized` the endpoint file names
the sidecar's URL while uvicorn's HTTP parser (httptools, a C extension) is not mapped into the
process; the first request is answered, and only then is it loaded.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.test_runs import wait_for


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"]))
async def client(lsp_client: LanguageClient, tmp_path):
    await lsp_client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities("neovim@v0.11"),
            root_uri=tmp_path.as_uri(),
            initialization_options={"harness": {"sidecar": {"enabled": True, "port": 0}}},
        )
    )
    yield lsp_client
    await lsp_client.shutdown_session()


def test_the_start_up_check_knows_every_in_flight_status():
    from harness_ls.lsp.runtime import IN_FLIGHT
    from harness_ls.store.meta import RUN_IN_FLIGHT, SESSION_IN_FLIGHT

    assert IN_FLIGHT == {"runs": set(RUN_IN_FLIGHT), "sessions": set(SESSION_IN_FLIGHT)}


def web_stack_loaded(pid: int) -> bool:
    return "httptools" in Path(f"/proc/{pid}/maps").read_text()


async def test_sidecar_listens_at_start_and_loads_on_first_connection(client, _isolated_data_dir):
    endpoints = _isolated_data_dir / "endpoints"
    found = await wait_for(lambda: list(endpoints.glob("*.json")), 30)
    info = json.loads(found[0].read_text())
    assert info["kind"] == "harness-ls" and info["url"].startswith("http://127.0.0.1:")
    pid = info["pid"]
    await asyncio.sleep(0.5)  # what an idle editor session looks like
    assert not web_stack_loaded(pid)
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.get(info["url"] + "/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert web_stack_loaded(pid)


def test_a_lint_only_server_loads_no_agent_core_tools_or_web_stack():
    """What the server imports to answer `initialize`: pygls and the spec validator, not the
    heavy parts (they cost RSS and cold start; benchmarks/lsp_latency.py has the figures)."""
    heavy = ["pydantic", "starlette", "uvicorn", "httpx", "git", "harness_ls.core",
             "harness_ls.agent", "harness_ls.tools", "harness_ls.store", "harness_ls.http"]  # fmt: skip
    code = (
        "import sys; from harness_ls.lsp.main import serve; "
        "from harness_ls.lsp.server import create_server; create_server(); "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr


async def test_open_dashboard_before_the_first_connection_gives_a_working_login_link(client):
    """The sidecar is still lazy (nothing connected yet): Open Dashboard loads it to make a
    one-time login link, which names the run in the query and, for proxies that drop the
    query (code-server's asExternalUri), in the fragment too."""
    run_id = "run_01ABCDEFGHJKMNPQRSTVWXYZ00"
    result = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.openDashboard", arguments=[run_id])
    )
    url = result["url"]
    base, fragment = url.split("#", 1)
    assert base.endswith(f"/login?next=%2F%23%2Fruns%2F{run_id}")
    nonce, run = fragment.split("&")
    assert nonce.startswith("nonce=") and run == f"run={run_id}"
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(base.split("?")[0], data={"nonce": nonce.removeprefix("nonce=")})
    assert r.status_code == 303 and r.headers["location"] == "./" and r.cookies
