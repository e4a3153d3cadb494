"""agentctl as a subprocess against a real agentd subprocess (ephemeral port, temp data dir).

One daemon serves the whole module set (starting one costs seconds on a loaded 2-core box); every
test gets its own git workspace, so runs never share a tree. The daemon's environment points
OPENAI_BASE_URL at a real fake OpenAI-compatible server process, so a session without `--model`
talks to it over HTTP; runs pass `--model scripted:<file>`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness_ls.testing.greet import (  # noqa: F401 - re-exported to the tests here
    DOCS,
    DONE,
    PLAN,
    SPEC,
)
from harness_ls.testing.greet import WRITE_SAYING as WRITE  # noqa: F401
from harness_ls.testing.greet import clean_env as base_env  # noqa: F401

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
AGENTD = [sys.executable, "-m", "harness_ls.http.agentd"]
FAKE = [sys.executable, "-m", "harness_ls.testing.fake_models"]
REPO = Path(__file__).resolve().parents[2]


def read_first_line(proc: subprocess.Popen, needle: str, within: float = 30) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if needle in line:
            return line
        if proc.poll() is not None:
            raise AssertionError(f"process exited {proc.returncode}: {proc.stderr.read()}")
    raise AssertionError(f"no line with {needle!r}")


@dataclass
class Daemon:
    url: str
    data_dir: Path
    proc: subprocess.Popen
    fake_url: str
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(self.home, **{"HARNESS_DATA_DIR": str(self.data_dir), **extra})

    def cli(self, *args: str, cwd: Path, env: dict | None = None, timeout: float = 60,
            input: str | None = None) -> subprocess.CompletedProcess:  # fmt: skip
        return subprocess.run([*AGENTCTL, *args], cwd=cwd, env=env or self.env(), input=input,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip

    def popen(self, *args: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen([*AGENTCTL, *args], cwd=cwd, env=env or self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def queue_model(self, *responses: dict) -> None:
        base = self.fake_url.removesuffix("/v1")
        httpx.post(f"{base}/_fake/responses", json=list(responses), timeout=10).raise_for_status()

    def wait_approval(self, owner: str, within: float = 30) -> dict:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for a in httpx.get(f"{self.url}/v1/approvals", timeout=10).json():
                if owner in (a.get("run_id"), a.get("session_id")):
                    return a
            time.sleep(0.1)
        raise AssertionError(f"no approval for {owner}")


@pytest.fixture(scope="session")
def daemon(tmp_path_factory) -> Daemon:
    root = tmp_path_factory.mktemp("cli-daemon")
    home = root / "home"
    home.mkdir()
    fake = subprocess.Popen([*FAKE, "--port", "0"], cwd=root, env=base_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    proc = None
    try:
        fake_url = read_first_line(fake, "http://").strip()
        data = root / "data"
        env = base_env(home, HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake_url)
        proc = subprocess.Popen([*AGENTD, "--listen", "127.0.0.1:0"], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        line = read_first_line(proc, "dashboard at")
        url = line.split("dashboard at ", 1)[1].split()[0].rstrip("/")
        yield Daemon(url, data, proc, fake_url, home)
    finally:
        for p in (proc, fake):
            if p is not None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


def git(ws: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(ws), *args], check=True, capture_output=True)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A real git repo with a valid spec and greet.txt = hi."""
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q")
    git(ws, "config", "user.email", "t@example.com")
    git(ws, "config", "user.name", "t")
    spec = ws / "specs" / "greet" / "spec.md"
    spec.parent.mkdir(parents=True)
    spec.write_text(SPEC)
    (ws / "greet.txt").write_text("hi\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws


def script(tmp_path: Path, *responses: dict) -> str:
    path = tmp_path / f"script-{len(list(tmp_path.glob('script-*')))}.json"
    path.write_text(json.dumps({"responses": list(responses)}))
    return f"scripted:{path}"


def ok(out: subprocess.CompletedProcess, code: int = 0) -> subprocess.CompletedProcess:
    assert out.returncode == code, (
        f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    )
    assert "Traceback" not in out.stderr, out.stderr
    return out
