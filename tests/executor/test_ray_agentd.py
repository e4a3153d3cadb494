"""agentd --executor ray as a subprocess against the shared two-node cluster: approvals answered
over HTTP and by agentctl, where it ran in `agentctl list` and `attach`, an agentd restart that
re-attaches to the running worker, and the secrets that must never reach the cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness_ls.testing.greet import DOCS, DONE, PLAN, clean_env

from .conftest import make_repo, script

AGENTD = [sys.executable, "-m", "harness_ls.http.agentd"]
AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
SPEC = "specs/greet/spec.md"
TOKEN = "tok-" + "Q7xv93LmZp0sNw4R" * 2
KEY = "sk-test-" + "Hq8Zr2Vb5Tn1Kc6W" * 2


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


class Agentd:
    def __init__(self, root: Path, address: str) -> None:
        self.root, self.address = root, address
        self.data = root / "data"
        self.env = clean_env(root / "home", HARNESS_DATA_DIR=str(self.data),
                             HARNESS_AUTH_TOKEN=TOKEN, OPENAI_API_KEY=KEY)  # fmt: skip
        self.env["RAY_TMPDIR"] = os.environ["RAY_TMPDIR"]
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> Agentd:
        self.proc = subprocess.Popen(
            [*AGENTD, "--listen", "127.0.0.1:0", "--ray-address", self.address],
            cwd=self.root, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "dashboard at" in line:
                self.url = line.split("dashboard at ", 1)[1].split()[0].rstrip("/")
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"agentd exited: {self.proc.stderr.read()}")
        raise AssertionError("agentd did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def http(self, method: str, path: str, **kw) -> httpx.Response:
        headers = {"authorization": f"Bearer {TOKEN}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {**self.env, "HARNESS_URL": self.url}
        return subprocess.run([*AGENTCTL, *args], env=env, cwd=self.root, capture_output=True,
                              text=True, timeout=120)  # fmt: skip

    def approval(self, run_id: str, within: float = 120) -> dict:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for a in self.http("GET", "/v1/approvals").json():
                if a.get("run_id") == run_id:
                    return a
            time.sleep(0.1)
        raise AssertionError(f"no approval for {run_id}")

    def run(self, run_id: str) -> dict:
        return self.http("GET", f"/v1/runs/{run_id}").json()

    def wait(self, run_id: str, within: float = 120) -> dict:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            meta = self.run(run_id)
            if meta["status"] in ("completed", "failed", "cancelled", "interrupted"):
                return meta
            time.sleep(0.2)
        raise AssertionError(f"{run_id} did not end")

    def events(self, run_id: str) -> list[dict]:
        import json

        path = self.data / "runs" / run_id / "events.ndjson"
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def agentd(two_nodes, tmp_path):
    d = Agentd(tmp_path, two_nodes.address)
    yield d
    d.stop()


def test_approvals_over_http_and_agentctl_and_where_it_ran(agentd, tmp_path):
    repo = make_repo(tmp_path)
    agentd.start()
    name = script(tmp_path, PLAN, write("greet.txt", "hello\n"), write("b.txt", "b\n"), DONE, DOCS)
    meta = agentd.http("POST", "/v1/runs", json={"workspace": str(repo), "spec": SPEC,
                                                 "model": name}).json()  # fmt: skip
    rid = meta["id"]
    first = agentd.approval(rid)
    r = agentd.http("POST", f"/v1/runs/{rid}/approvals/{first['id']}", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    second = agentd.approval(rid)
    assert second["id"] != first["id"]
    out = agentd.cli("approve", "--step", second["id"], rid)
    assert out.returncode == 0, out.stderr
    final = agentd.wait(rid)
    assert final["status"] == "completed", final["outcome"]
    assert final["node"] and "/" in final["node"]
    assert (repo / "b.txt").read_text() == "b\n"
    listing = agentd.cli("list")
    assert listing.returncode == 0 and "NODE" in listing.stdout and final["node"] in listing.stdout
    attach = agentd.cli("attach", rid)
    assert f"on node {final['node']}" in attach.stdout and "applied 2 file(s)" in attach.stdout
    resolved = [e["data"] for e in agentd.events(rid) if e["type"] == "approval.resolved"]
    assert [(d["surface"], d["decision"]) for d in resolved][0][1] == "approve"
    assert len(resolved) == 2
    export = agentd.http("GET", f"/v1/runs/{rid}/export")
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(export.content)) as z:
        meta_json = next(n for n in z.namelist() if n.endswith("meta.json"))
        assert final["node"] in z.read(meta_json).decode()


def test_a_restarted_agentd_reattaches_to_the_running_worker(agentd, tmp_path):
    from harness_ls.testing.fake_models import FakeOpenAIServer

    repo = make_repo(tmp_path)
    srv = FakeOpenAIServer().__enter__()  # outlives both agentd processes (a script would restart)
    srv.push(PLAN, write("greet.txt", "hello\n"), DONE, DOCS)
    agentd.env["OPENAI_BASE_URL"] = srv.base_url
    agentd.start()
    rid = agentd.http("POST", "/v1/runs", json={"workspace": str(repo), "spec": SPEC,
                                                "model": "openai:gpt-4.1"}).json()["id"]  # fmt: skip
    asked = agentd.approval(rid)
    agentd.stop()  # the worker keeps waiting for its answer
    agentd.start()
    again = agentd.approval(rid)
    assert again["id"] == asked["id"]
    assert agentd.run(rid)["status"] == "waiting_approval"
    agentd.http("POST", f"/v1/runs/{rid}/approvals/{again['id']}", json={"decision": "approve"})
    final = agentd.wait(rid)
    assert final["status"] == "completed", final["outcome"]
    assert (repo / "greet.txt").read_text() == "hello\n"
    evs = agentd.events(rid)
    assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
    assert len({e["id"] for e in evs}) == len(evs)
    requested = [e for e in evs if e["type"] == "approval.requested"]
    assert [e["data"]["approval_id"] for e in requested] == [asked["id"]]  # asked once
    srv.__exit__(None, None, None)


def test_the_token_and_model_keys_never_reach_the_cluster(agentd, two_nodes, tmp_path):
    from harness_ls.testing.ray_cluster import memory_contains, ray_pids

    repo = make_repo(tmp_path)
    (repo / ".env.local").write_text(f"OPENAI_API_KEY={KEY}\n")  # untracked, not ignored
    agentd.start()
    name = script(tmp_path, PLAN, write("greet.txt", "hello\n"), DONE, DOCS)
    rid = agentd.http("POST", "/v1/runs", json={"workspace": str(repo), "spec": SPEC,
                                                "model": name}).json()["id"]  # fmt: skip
    asked = agentd.approval(rid)  # the worker is alive, mid-run: dump every Ray process now
    needles = [TOKEN.encode(), KEY.encode()]
    control = b"Make greet.txt say hello"  # the spec: the worker must have it (the dump works)
    assert agentd.proc is not None
    pids = ray_pids(exclude={agentd.proc.pid})
    dumps = {pid: memory_contains(pid, [*needles, control]) for pid in pids}
    assert any(control in found for found in dumps.values()), "the memory dump saw nothing"
    assert all(set(found) <= {control} for found in dumps.values()), dumps
    agentd.http("POST", f"/v1/runs/{rid}/approvals/{asked['id']}", json={"decision": "approve"})
    final = agentd.wait(rid)
    assert final["status"] == "completed", final["outcome"]
    leaked = []
    for path in two_nodes.temp.rglob("*"):  # Ray's session dirs: logs, spilled objects, ...
        if path.is_file() and not path.is_socket():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            leaked += [f"{path}: {n[:8]!r}" for n in needles if n in data]
    assert leaked == []
    assert (repo / ".env.local").read_text() == f"OPENAI_API_KEY={KEY}\n"


def test_a_run_whose_worker_died_while_agentd_was_down_is_interrupted(agentd, two_nodes, tmp_path):
    import ray

    repo = make_repo(tmp_path)
    agentd.start()
    name = script(tmp_path, PLAN, write("greet.txt", "hello\n"), DONE, DOCS)
    rid = agentd.http("POST", "/v1/runs", json={"workspace": str(repo), "spec": SPEC,
                                                "model": name}).json()["id"]  # fmt: skip
    agentd.approval(rid)
    agentd.stop()
    if not ray.is_initialized():
        ray.init(address=two_nodes.address, log_to_driver=False)
    ray.kill(ray.get_actor(f"harness-run-{rid}", namespace="harness-ls"), no_restart=True)
    agentd.start()
    meta = agentd.run(rid)
    assert meta["status"] == "interrupted"
    last = agentd.events(rid)[-1]
    assert last["type"] == "run.interrupted" and last["data"]["cause"] == "worker lost"
    assert agentd.http("GET", "/v1/approvals").json() == []
