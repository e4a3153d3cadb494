"""Private by default on a shared machine, proven with a second OS user (`runuser -u nobody`).

The owner starts agentd (and an editor's harness-ls) with no token configured and a umask of 0:
the hosts generate a token into the data dir, every file there is 0600 and every folder 0700, the
owner's agentctl works with no configuration, and the other user gets 401 on every route and
cannot read a single file under the data dir — endpoint files and the token included. The data
dir sits in a world-readable folder, so its own permissions are the only thing in the way.

Needs root (CI runs as root) and the system python for the second user's probe.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness_ls.testing.lsp_client import RawLspClient
from tests.conftest import require_capability
from tests.e2e.helpers import (
    AGENTD,
    DOCS,
    DONE,
    HARNESS_LS,
    PLAN,
    Proc,
    clean_env,
    git,
    make_repo,
    spawn,
    wait_for,
    write_script,
)
from tests.e2e.test_security import PUBLIC, all_routes

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
SYSTEM_PY = "/usr/bin/python3"


@pytest.fixture(autouse=True)
def _second_user() -> None:
    """Every test here acts as user `nobody`: root, runuser and the system python are needed."""
    require_capability(
        os.geteuid() == 0 and bool(shutil.which("runuser")) and Path(SYSTEM_PY).exists(),
        "root, runuser and /usr/bin/python3 to act as a second user",
        "run as root on Debian (CI does)",
    )


# Runs as `nobody` with the system python: every route without credentials, then every path.
PROBE = r"""
import json, sys, urllib.request, urllib.error
job = json.load(sys.stdin)
out = {"routes": [], "files": {}}
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(NoRedirect)
for method, path in job["routes"]:
    data = b"{}" if method not in ("GET", "HEAD") else None
    req = urllib.request.Request(job["url"] + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        status = opener.open(req, timeout=10).status
    except urllib.error.HTTPError as e:
        status = e.code
    out["routes"].append([method, path, status])
for p in job["paths"]:
    try:
        if job["dirs"].get(p):
            __import__("os").listdir(p)
        else:
            open(p, "rb").read(1)
        out["files"][p] = "read"
    except PermissionError:
        out["files"][p] = "denied"
    except OSError as e:
        out["files"][p] = type(e).__name__
print(json.dumps(out))
"""


def as_nobody(url: str, paths: list[Path]) -> dict:
    job = {
        "url": url,
        "routes": all_routes(),
        "paths": [str(p) for p in paths],
        "dirs": {str(p): p.is_dir() for p in paths},
    }
    out = subprocess.run(["runuser", "-u", "nobody", "--", SYSTEM_PY, "-c", PROBE],
                         input=json.dumps(job), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_stranger_refused(report: dict) -> None:
    for method, path, status in report["routes"]:
        if (method, path) in PUBLIC:
            assert status != 200 or method == "GET", (method, path, status)
        elif (method, path) == ("GET", "/"):
            assert status == 303, (method, path, status)  # to /login, nothing else
        else:
            assert status == 401, (method, path, status)
    assert report["files"] and set(report["files"].values()) == {"denied"}, report["files"]


def everything_under(data: Path) -> list[Path]:
    return [data, *sorted(data.rglob("*"))]


def assert_owner_only(data: Path) -> None:
    """What harness-ls writes is exactly 0700/0600; git's own files in the checkpoint repos are
    owner-only too (read-only objects are 0400)."""
    for p in everything_under(data):
        mode = stat.S_IMODE(p.lstat().st_mode)
        if "checkpoints" in p.relative_to(data).parts:
            assert mode & 0o077 == 0, f"{p} is {mode:04o}: other users can read it"
            continue
        want = 0o700 if p.is_dir() else 0o600
        assert mode == want, f"{p} is {mode:04o}, want {want:04o}"


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A world-readable folder (like a home dir on many systems): only the data dir protects."""
    root = Path(tempfile.mkdtemp(prefix="harness-shared-", dir="/tmp"))
    root.chmod(0o755)
    (root / "home").mkdir(mode=0o755)
    (root / "home").chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def umask0(cmd: list[str]) -> list[str]:
    """Start `cmd` with umask 000: the owner-only modes must not depend on the umask."""
    return ["sh", "-c", 'umask 000; exec "$@"', "sh", *cmd]


def owner_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    out = subprocess.run([*AGENTCTL, *args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, f"agentctl {args}: {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out


def test_agentd_second_user_gets_401_everywhere_and_reads_no_file(shared_root, procs):
    home = shared_root / "home"
    env = clean_env(home)  # no HARNESS_AUTH_TOKEN, no HARNESS_DATA_DIR: the defaults
    data = home / ".agent-harness"
    d = spawn(umask0([*AGENTD, "--listen", "127.0.0.1:0"]), shared_root, env, shared_root / "logs",
              "agentd")  # fmt: skip
    procs.append(d)
    d.url = wait_for(lambda: _url(d), 40, what="agentd's URL")
    assert "one-time link" in d.stderr()

    # the owner's agentctl works with no configuration: it finds the URL and the token itself
    ws = make_repo(shared_root / "ws")
    (ws / "greet.txt").write_text("hello\n")  # already done: the run plans, verifies, completes
    git(ws, "commit", "-qam", "hello")
    model = write_script(shared_root / "s.json", PLAN, DONE, DOCS)
    run = owner_cli("run", "--workspace", str(ws), "--spec", "specs/greet/spec.md", "--model",
                    model, "--follow", cwd=ws, env=env)  # fmt: skip
    assert "run_" in run.stdout + run.stderr
    sid = owner_cli("session", "new", "--workspace", str(ws), cwd=ws, env=env).stdout.split()[0]
    (ws / "note.txt").write_text("secret note\n")
    owner_cli("session", "attach", "--file", str(ws / "note.txt"), sid, cwd=ws, env=env)
    run_id = json.loads(owner_cli("list", "--json", cwd=ws, env=env).stdout)[0]["id"]
    owner_cli("export", "--out", str(data / "run.zip"), run_id, cwd=ws, env=env)
    doctor = owner_cli("doctor", cwd=ws, env=env).stdout
    assert "0700 (owner only)" in doctor and "auth/token is 0600 (owner only)" in doctor
    assert "token accepted (auth on)" in doctor

    paths = everything_under(data)
    names = {p.name for p in paths}
    assert {"token", "events.ndjson", "meta.json", "note.txt", "run.zip"} <= names, names
    assert any(p.parent.name == "endpoints" and p.suffix == ".json" for p in paths)
    assert_owner_only(data)  # whatever the umask (000 here)
    assert_stranger_refused(as_nobody(d.url, paths))


def test_editor_sidecar_second_user_gets_401_and_shares_the_owners_token(shared_root):
    home = shared_root / "home"
    env = clean_env(home)
    data = home / ".agent-harness"
    ws = make_repo(shared_root / "ws")
    client = RawLspClient(umask0([*HARNESS_LS]), env)
    try:
        caps = {"textDocument": {"publishDiagnostics": {}}, "workspace": {"workspaceFolders": True}}
        client.request("initialize", {"processId": os.getpid(), "rootUri": ws.as_uri(),
                                      "capabilities": caps,
                                      "initializationOptions": {"harness": {"sidecar": {"port": 0}}}})  # fmt: skip
        client.send("initialized", {})
        endpoint = wait_for(lambda: list((data / "endpoints").glob("*.json")), 60,
                            what="the sidecar's endpoint file")[0]  # fmt: skip
        info = json.loads(endpoint.read_text())
        assert info["kind"] == "harness-ls"
        token = (data / "auth" / "token").read_text().strip()
        owner = httpx.get(info["url"] + "/v1/health", headers={"authorization": f"Bearer {token}"})
        assert owner.status_code == 200 and owner.json()["auth"] is True
        assert_owner_only(data)
        assert_stranger_refused(as_nobody(info["url"], everything_under(data)))
        # agentctl (same user, no configuration) reaches the editor's sidecar with the same token
        out = owner_cli("list", "--json", cwd=ws, env=env)
        assert json.loads(out.stdout) == []
    finally:
        client.kill()


def test_restart_keeps_the_token_and_a_login_link_works_once(shared_root, procs):
    home = shared_root / "home"
    data = shared_root / "data"
    env = clean_env(home, HARNESS_DATA_DIR=str(data))

    def start(name: str) -> Proc:
        p = spawn([*AGENTD, "--listen", "127.0.0.1:0"], shared_root, env, shared_root / "logs",
                  name)  # fmt: skip
        procs.append(p)
        p.url = wait_for(lambda: _url(p), 40, what="agentd's URL")
        return p

    d1 = start("agentd-1")
    token = (data / "auth" / "token").read_text().strip()
    link = wait_for(lambda: _link(d1), 10, what="the login link")
    assert link.startswith(d1.url + "/login#nonce=") and token not in link
    nonce = link.split("#nonce=", 1)[1]
    with httpx.Client(base_url=d1.url, headers={"authorization": ""}) as c:
        assert c.get("/v1/runs").status_code == 401
        ok = c.post("/login", data={"nonce": nonce, "next": "/#/approvals"})
        assert ok.status_code == 303 and ok.headers["location"] == "./#/approvals"
        cookie = c.cookies.get("harness_session")
        assert cookie and token not in cookie
        assert c.get("/v1/runs").status_code == 200
        c.cookies.clear()
        again = c.post("/login", data={"nonce": nonce})
        assert again.status_code == 303 and again.headers["location"] == "./login?expired=1"
        assert "set-cookie" not in again.headers
    d1.stop()

    d2 = start("agentd-2")
    assert (data / "auth" / "token").read_text().strip() == token  # same token after a restart
    assert _link(d2) != link
    with httpx.Client(base_url=d2.url, headers={"authorization": ""}) as c:
        assert c.get("/v1/runs", headers={"authorization": f"Bearer {token}"}).status_code == 200
        c.cookies.set("harness_session", cookie)
        assert c.get("/v1/runs").status_code == 200  # the dashboard session survives it too
        c.post("/logout")
        c.cookies.set("harness_session", cookie)
        assert c.get("/v1/runs").status_code == 401  # a copied cookie dies with the logout


def test_loose_data_dir_gets_a_warning_with_the_chmod_command(shared_root, procs):
    data = shared_root / "loose"
    data.mkdir()
    data.chmod(0o755)
    env = clean_env(shared_root / "home", HARNESS_DATA_DIR=str(data))
    d = spawn([*AGENTD, "--listen", "127.0.0.1:0"], shared_root, env, shared_root / "logs", "l")
    procs.append(d)
    d.url = wait_for(lambda: _url(d), 40, what="agentd's URL")
    assert f"run `chmod 700 {data}`" in d.stderr()
    doctor = owner_cli("doctor", cwd=shared_root, env=env).stdout
    assert f"fix: chmod 700 {data}" in doctor


def test_no_auth_warns_on_every_start(shared_root, procs):
    env = clean_env(shared_root / "home", HARNESS_DATA_DIR=str(shared_root / "d"))
    d = spawn([*AGENTD, "--listen", "127.0.0.1:0", "--no-auth"], shared_root, env,
              shared_root / "logs", "noauth")  # fmt: skip
    procs.append(d)
    d.url = wait_for(lambda: _url(d), 40, what="agentd's URL")
    assert "--no-auth: every local user" in d.stderr()
    assert "NO AUTH" in d.stdout()
    assert httpx.get(d.url + "/v1/health").json()["auth"] is False
    assert not (shared_root / "d" / "auth" / "token").exists()
    doctor = subprocess.run([*AGENTCTL, "doctor"], cwd=shared_root, env=env, capture_output=True,
                            text=True, timeout=120).stdout  # fmt: skip
    assert "runs with --no-auth" in doctor


def test_unix_socket_listener_is_owner_only(shared_root, procs):
    home = shared_root / "home"
    env = clean_env(home)
    sock = home / "agentd.sock"
    d = spawn(umask0([*AGENTD, "--listen", f"unix:{sock}"]), shared_root, env,
              shared_root / "logs", "unix")  # fmt: skip
    procs.append(d)
    wait_for(lambda: "API at unix:" in d.stdout() or d.proc.poll() is not None, 40,
             what="agentd on the socket")  # fmt: skip
    assert d.proc.poll() is None, d.stderr()
    assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert json.loads(owner_cli("list", "--json", cwd=home, env=env).stdout) == []
    assert "token accepted" in owner_cli("doctor", cwd=home, env=env).stdout
    probe = (
        "import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
        "try:\n s.connect(sys.argv[1]); print('connected')\n"
        "except PermissionError: print('denied')\n"
    )
    out = subprocess.run(["runuser", "-u", "nobody", "--", SYSTEM_PY, "-c", probe, str(sock)],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.stdout.strip() == "denied", out
    d.stop()
    assert not sock.exists()


def _url(p: Proc) -> str | None:
    text = p.stdout()
    if "dashboard at " in text:
        return text.split("dashboard at ", 1)[1].split()[0].rstrip("/")
    if p.proc.poll() is not None:
        raise AssertionError(f"agentd exited {p.proc.returncode}: {p.stderr()}")
    return None


def _link(p: Proc) -> str | None:
    for line in p.stderr().splitlines():
        if "/login#nonce=" in line:
            return line.strip()
    return None
