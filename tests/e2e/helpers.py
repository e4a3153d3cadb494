"""End-to-end helpers: real agentd / harness-ls processes, real git repos, real model servers.

Every process here is started with a clean environment (no provider keys from the developer's
shell), binds 127.0.0.1 only, writes its stdout/stderr to files (a chatty child can never block
on a full pipe) and is stopped by the fixture that started it (SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness_ls.testing.greet import DOCS, DONE, PLAN, SPEC, clean_env  # noqa: F401 - re-exported to the tests here
from harness_ls.testing.greet import WRITE_SAYING as WRITE  # noqa: F401
from harness_ls.testing.owner import install, owner_data_dir

AGENTD = [sys.executable, "-m", "harness_ls.http.agentd"]
HARNESS_LS = [sys.executable, "-m", "harness_ls"]
FAKE = [sys.executable, "-m", "harness_ls.testing.fake_models"]
REPO = Path(__file__).resolve().parents[2]
LONG = os.environ.get("HARNESS_LONG") == "1"

install()  # benchmarks import these helpers too: they call the hosts they start as the owner

TERMINAL = ("completed", "failed", "cancelled", "interrupted")


def git(ws: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ws), *args], check=True, capture_output=True, text=True, timeout=30
    ).stdout


def make_repo(root: Path, spec: str = SPEC, name: str = "greet") -> Path:
    """A real git repo with `specs/<name>/spec.md` and greet.txt = hi, committed."""
    ws = root
    ws.mkdir(parents=True, exist_ok=True)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "t@example.com")
    git(ws, "config", "user.name", "t")
    path = ws / "specs" / name / "spec.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec)
    (ws / "greet.txt").write_text("hi\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws


def write_script(path: Path, *responses: dict[str, Any]) -> str:
    path.write_text(json.dumps({"responses": list(responses)}))
    return f"scripted:{path}"


def wait_for(pred, within: float = 30, every: float = 0.05, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {within}s waiting for {what}")


@dataclass
class Proc:
    """A child process with its output in files."""

    proc: subprocess.Popen
    out: Path
    err: Path
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def stop(self, grace: float = 10) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def spawn(cmd: list[str], cwd: Path, env: dict[str, str], logs: Path, name: str) -> Proc:
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    fo, fe = out.open("wb"), err.open("wb")
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL
        )
    finally:
        fo.close()
        fe.close()
    return Proc(proc, out, err)


def start_agentd(
    root: Path, data: Path, *args: str, env: dict[str, str] | None = None, name: str = "agentd"
) -> Proc:
    """agentd on 127.0.0.1:0 over `data`; returns once it printed its URL."""
    env = env or clean_env(root / "home", HARNESS_DATA_DIR=str(data))
    owner_data_dir(data, env.get("HARNESS_AUTH_TOKEN"))
    p = spawn([*AGENTD, "--listen", "127.0.0.1:0", *args], root, env, root / "logs", name)

    def url() -> str | None:
        text = p.stdout()
        if "dashboard at " in text:
            return text.split("dashboard at ", 1)[1].split()[0].rstrip("/")
        if p.proc.poll() is not None:
            raise AssertionError(f"agentd exited {p.proc.returncode}: {p.stderr()}")
        return None

    p.url = wait_for(url, 40, what="agentd's URL")
    return p


def start_fake(root: Path, *responses: dict[str, Any], default: dict | None = None) -> Proc:
    """The fake OpenAI-compatible server as a process; `.url` is its base URL (…/v1)."""
    script = root / f"fake-{time.monotonic_ns()}.json"
    doc: dict[str, Any] = {"responses": list(responses)}
    if default is not None:
        doc["default"] = default
    script.write_text(json.dumps(doc))
    p = spawn(
        [*FAKE, "--port", "0", "--script", str(script)],
        root,
        clean_env(root / "home"),
        root / "logs",
        f"fake-{script.stem}",
    )
    p.url = wait_for(
        lambda: next((ln.strip() for ln in p.stdout().splitlines() if "http://" in ln), None),
        30,
        what="fake model server URL",
    )
    return p


def queue(fake_url: str, *responses: dict[str, Any]) -> None:
    base = fake_url.removesuffix("/v1")
    httpx.post(f"{base}/_fake/responses", json=list(responses), timeout=10).raise_for_status()


class Api:
    """A tiny synchronous client of the HTTP API."""

    def __init__(self, url: str, token: str | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.c = httpx.Client(base_url=url, headers=headers, timeout=30)

    def close(self) -> None:
        self.c.close()

    def get(self, path: str, **kw: Any) -> Any:
        r = self.c.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def post(self, path: str, body: dict[str, Any], status: int | tuple[int, ...] = (200, 201)):
        r = self.c.post(path, json=body)
        ok = status if isinstance(status, tuple) else (status,)
        assert r.status_code in ok, (path, r.status_code, r.text)
        return r.json()

    def start_run(self, ws: Path, model: str, spec: str = "specs/greet/spec.md", **kw: Any):
        return self.post("/v1/runs", {"workspace": str(ws), "spec": spec, "model": model, **kw})

    def run(self, run_id: str) -> dict[str, Any]:
        return self.get(f"/v1/runs/{run_id}")

    def events(self, run_id: str, kind: str = "runs") -> list[dict[str, Any]]:
        """Every stored event, replayed over SSE (follow=false)."""
        out: list[dict[str, Any]] = []
        with self.c.stream("GET", f"/v1/{kind}/{run_id}/events", params={"follow": "false"}) as r:
            assert r.status_code == 200, r.read()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    out.append(json.loads(line[5:].strip()))
        return out

    def approvals(self, owner: str) -> list[dict[str, Any]]:
        return [
            a
            for a in self.get("/v1/approvals")
            if owner in (a.get("run_id"), a.get("session_id")) and a.get("status") == "pending"
        ]

    def wait_approval(self, owner: str, within: float = 30, skip: set[str] = frozenset()) -> dict:
        return wait_for(
            lambda: next((a for a in self.approvals(owner) if a["id"] not in skip), None),
            within,
            every=0.1,
            what=f"an approval for {owner}",
        )

    def approve(self, run_id: str, approval_id: str, decision: str = "approve") -> Any:
        return self.post(f"/v1/runs/{run_id}/approvals/{approval_id}", {"decision": decision})

    def wait_status(
        self, run_id: str, within: float = 60, statuses=TERMINAL, approve: bool = False
    ) -> dict[str, Any]:
        """Until the run reaches one of `statuses`; `approve=True` approves whatever it asks."""

        def check() -> dict[str, Any] | None:
            if approve:
                for a in self.approvals(run_id):
                    self.approve(run_id, a["id"])
            m = self.run(run_id)
            return m if m["status"] in statuses else None

        return wait_for(
            check,
            within,
            every=0.1,
            what=f"run {run_id} to reach {statuses}",
        )


@contextmanager
def scripted_agentd(root: Path, token: str, mode: str) -> Iterator[Proc]:
    """agentd in policy `mode` whose `openai` provider is a fake server the test scripts
    (`extra`: root, data, fake, env); both stopped on exit."""
    data = root / "data"
    fake = start_fake(root, default={"text": "nothing more"})
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=token,
                    OPENAI_API_KEY=f"sk-fake-{root.name}", OPENAI_BASE_URL=fake.url)  # fmt: skip
    data.mkdir(parents=True, exist_ok=True)
    (data / "policy.toml").write_text(f'mode = "{mode}"\n')
    d = start_agentd(root, data, env=env)
    d.extra.update(root=root, data=data, fake=fake, env=env)
    try:
        yield d
    finally:
        d.stop()
        fake.stop()


@dataclass
class Denied:
    """A run whose every approval was denied: its id, final meta, events and what it asked."""

    run_id: str
    final: dict[str, Any]
    events: list[dict[str, Any]]
    asked: list[dict[str, Any]]


def run_denying(daemon: Proc, token: str, ws: Path, *turns: dict[str, Any],
                plan: str = "Do the thing", model: str = "openai:gpt-4o-mini") -> Denied:  # fmt: skip
    """Start a run whose (fake) model answers with `plan`, then `turns`, then "done" and the
    docs step; deny every approval until the run ends."""
    plan_text = json.dumps({"steps": [{"title": plan}]})
    queue(daemon.extra["fake"].url, {"text": plan_text}, *turns, {"text": "done"}, DOCS)
    api = Api(daemon.url, token)
    rid = api.start_run(ws, model)["id"]
    asked: list[dict[str, Any]] = []

    def step() -> dict[str, Any] | None:
        for a in api.approvals(rid):
            asked.append(a)
            api.approve(rid, a["id"], "deny")
        m = api.run(rid)
        return m if m["status"] in TERMINAL else None

    final = wait_for(step, 120, every=0.1, what=f"run {rid} to end")
    events = api.events(rid)
    api.close()
    return Denied(rid, final, events, asked)


@pytest.fixture
def e2e_root(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """Processes to stop at teardown, whatever happened."""
    started: list[Proc] = []
    yield started
    for p in reversed(started):
        try:
            p.stop(5)
        except Exception:  # noqa: BLE001 - teardown must stop every process
            p.proc.kill()


def frame(obj: Any) -> bytes:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawLsp:
    """A raw JSON-RPC client of `python -m harness_ls` on stdio (no LSP library in between).

    A reader thread parses stdout strictly (headers + exactly Content-Length bytes); anything
    else on stdout is recorded in `.garbage` — the server must never write non-frames there.
    """

    def __init__(self, cwd: Path, env: dict[str, str], logs: Path, name: str = "harness-ls"):
        import threading

        logs.mkdir(parents=True, exist_ok=True)
        self.err = logs / f"{name}.err"
        with self.err.open("wb") as fe:
            self.proc = subprocess.Popen(
                HARNESS_LS, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=fe,
            )  # fmt: skip
        self.messages: list[dict[str, Any]] = []
        self.garbage: list[bytes] = []
        self.next_id = 1000
        self._cv = threading.Condition()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = out.readline()
                if not line:
                    with self._cv:
                        self._cv.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, sep, value = line.decode("latin-1").partition(":")
                if not sep or name.strip().lower() not in ("content-length", "content-type"):
                    self.garbage.append(line)
                    continue
                headers[name.strip().lower()] = value.strip()
            try:
                body = out.read(int(headers["content-length"]))
                msg = json.loads(body)
            except (KeyError, ValueError) as exc:
                self.garbage.append(repr(exc).encode())
                continue
            with self._cv:
                self.messages.append(msg)
                self._cv.notify_all()

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any = None) -> None:
        self.send_raw(frame({"jsonrpc": "2.0", "method": method, "params": params or {}}))

    def request(self, method: str, params: Any = None, within: float = 30) -> dict[str, Any]:
        self.next_id += 1
        rid = self.next_id
        self.send_raw(frame({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
        return self.wait_response(rid, within)

    def wait_response(self, rid: int, within: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + within
        with self._cv:
            while True:
                for m in self.messages:
                    if m.get("id") == rid and ("result" in m or "error" in m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(
                        f"no response to {rid}; stderr: {self.err.read_text()[-2000:]}"
                    )
                self._cv.wait(min(left, 0.5))

    def answer_server_requests(self) -> None:
        """Reply null to requests the server sent us (progress create, showMessageRequest...)."""
        with self._cv:
            todo = [m for m in self.messages if "method" in m and "id" in m and not m.get("_done")]
            for m in todo:
                m["_done"] = True
        for m in todo:
            self.send_raw(frame({"jsonrpc": "2.0", "id": m["id"], "result": None}))

    def initialize(self, root: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
        res = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {"window": {"workDoneProgress": True}},
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "initializationOptions": options or {},
            },
        )
        self.notify("initialized")
        return res

    def close(self, within: float = 10) -> int | None:
        if self.proc.poll() is None:
            try:
                self.request("shutdown", None, within=within)
                self.notify("exit")
                self.proc.wait(within)
            except Exception:  # noqa: BLE001 - fall back to killing it
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode
