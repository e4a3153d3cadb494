"""Security suite against a real agentd process started with a token and a (fake) provider key.

Every route is generated from the app's own route table, so a new route is covered the day it
lands. Secrets are planted where a leak would come from (a provider key in agentd's environment,
the auth token) and searched for everywhere afterwards: the whole data dir (every event log,
meta file and artifact), export zips, agentd's stderr and every error body seen.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
from starlette.routing import Mount, Route

from harness_ls.http.app import all_endpoints
from harness_ls.http.routes import dashboard
from tests.e2e.helpers import (
    AGENTD,
    DOCS,
    SPEC,
    Api,
    clean_env,
    make_repo,
    start_agentd,
    start_fake,
    wait_for,
    write_script,
)

TOKEN = "tok-e2e-SECRET-9f8e7d6c5b4a39281706"
API_KEY = "sk-e2e-PROVIDERKEY-0a1b2c3d4e5f60718293"
SECRETS = (TOKEN, API_KEY)
LEAK_ENV_SPEC = SPEC.replace(
    "- `grep -qx hello greet.txt`", "- `env | sort`\n- `grep -qx hello greet.txt`"
)


def all_routes() -> list[tuple[str, str]]:
    """(method, path) of every API endpoint and dashboard route, with sample path params."""
    out = [(ep.method, ep.path) for ep in all_endpoints()]
    for r in dashboard.routes():
        if isinstance(r, Route):
            out += [(m, r.path) for m in sorted(r.methods or ()) if m != "HEAD"]
        elif isinstance(r, Mount):
            out.append(("GET", r.path + "/app.js"))
    return [(m, re.sub(r"\{[^}]+\}", "x_1", p)) for m, p in out]


PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/static/app.js")}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("sec")
    fake = start_fake(root, default={"text": "ok"})
    data = root / "data"
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN,
                    OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=fake.url)  # fmt: skip
    d = start_agentd(root, data, "--log-level", "debug", env=env)
    d.extra.update(root=root, data=data, fake=fake, bodies=[])
    yield d
    d.stop()
    fake.stop()


def test_every_route_without_a_token_is_401(daemon):
    routes = all_routes()
    assert len(routes) >= 20
    for method, path in routes:
        r = httpx.request(method, daemon.url + path, timeout=10)
        daemon.extra["bodies"].append(r.text)
        if (method, path) in PUBLIC:
            assert r.status_code != 401, (method, path)
        elif (method, path) == ("GET", "/"):
            assert r.status_code == 303 and r.headers["location"] == "./login"
        else:
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"], r.text
        wrong = httpx.request(method, daemon.url + path, timeout=10,
                              headers={"authorization": "Bearer " + TOKEN[:-1] + "x"})  # fmt: skip
        if (method, path) not in PUBLIC and path != "/":
            assert wrong.status_code == 401, (method, path)


def test_wrong_host_is_421_on_every_route(daemon):
    for method, path in all_routes():
        r = httpx.request(method, daemon.url + path, timeout=10,
                          headers={"host": "evil.example", "authorization": f"Bearer {TOKEN}"})  # fmt: skip
        daemon.extra["bodies"].append(r.text)
        assert r.status_code == 421, (method, path, r.status_code)


def test_foreign_origin_on_every_write_is_403(daemon):
    writes = [(m, p) for m, p in all_routes() if m not in ("GET", "HEAD", "OPTIONS")]
    assert writes
    for method, path in writes:
        for origin in (
            "https://evil.example",
            "null",
            daemon.url.replace("127.0.0.1", "localhost"),
        ):
            r = httpx.request(method, daemon.url + path, timeout=10, json={},
                              headers={"origin": origin, "authorization": f"Bearer {TOKEN}"})  # fmt: skip
            daemon.extra["bodies"].append(r.text)
            assert r.status_code == 403, (method, path, origin, r.status_code)


def test_non_loopback_bind_without_auth_is_refused(tmp_path):
    out = subprocess.run([*AGENTD, "--listen", "0.0.0.0:0", "--no-auth", "--data-dir",
                          str(tmp_path / "d")], cwd=tmp_path, env=clean_env(tmp_path / "home"),
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode != 0
    assert "--no-auth is only allowed on a loopback" in out.stderr
    assert "Traceback" not in out.stderr


def test_dashboard_sends_a_restrictive_csp_and_has_no_inline_script(daemon):
    r = httpx.get(daemon.url + "/", headers={"authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    csp = {
        d.split()[0]: d.split()[1:]
        for d in r.headers["content-security-policy"].split(";")
        if d.strip()
    }
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for directive in csp.values():
        assert "'unsafe-inline'" not in directive and "'unsafe-eval'" not in directive
    html = r.text
    for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I):
        assert "src=" in m.group(1) and not m.group(2).strip(), m.group(0)[:200]
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler attribute"
    assert "javascript:" not in html.lower()
    login = httpx.get(daemon.url + "/login", timeout=10)
    assert "content-security-policy" in login.headers
    assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", login.text, re.I)


def _run(api: Api, ws: Path, model: str, spec: str = "specs/greet/spec.md") -> tuple[dict, list]:
    rid = api.start_run(ws, model, spec=spec)["id"]
    final = api.wait_status(rid, 60, approve=True)
    return final, api.events(rid)


def test_path_escapes_are_refused_in_every_tool_through_a_real_run(daemon, tmp_path):
    ws = make_repo(tmp_path / "ws")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside\n")
    os.symlink(outside, ws / "link")  # a symlink inside the workspace pointing out of it
    (ws / ".harness").mkdir()
    (ws / ".harness" / "policy.toml").write_text('mode = "auto-edit"\n')
    git_config = (ws / ".git" / "config").read_text()
    bad_paths = ["../outside/secret.txt", str(outside / "secret.txt"), "link/secret.txt",
                 "greet.txt\x00.txt"]  # fmt: skip
    calls = []
    for p in bad_paths:
        calls += [
            {"name": "read_file", "arguments": {"path": p}},
            {"name": "write_file", "arguments": {"path": p, "content": "pwned\n"}},
            {"name": "edit", "arguments": {"path": p, "old": "outside", "new": "pwned"}},
            {"name": "list_dir", "arguments": {"path": p.rsplit("/", 1)[0] or p}},
            {"name": "search", "arguments": {"pattern": "outside", "path": p}},
            {"name": "git_diff", "arguments": {"paths": [p]}},
        ]
    calls += [
        {"name": "write_file", "arguments": {"path": ".git/config", "content": "pwned\n"}},
        {"name": "write_file", "arguments": {"path": ".git/hooks/pre-commit", "content": "x"}},
        {"name": "edit", "arguments": {"path": ".git/config", "old": "[core]", "new": "pwned"}},
        {"name": "write_file", "arguments": {"path": "sub/../../escape.txt", "content": "x"}},
    ]
    plan = {"text": '{"steps": [{"title": "Try to escape"}]}'}
    model = write_script(tmp_path / "s.json", plan, {"tool_calls": calls}, {"text": "tried"}, DOCS)
    api = Api(daemon.url, TOKEN)
    final, evs = _run(api, ws, model)
    by_call: dict[str, list[str]] = {}
    for e in evs:
        if e["type"] in ("tool.call", "tool.refused", "tool.result"):
            by_call.setdefault(e["call_id"], []).append(e["type"])
    tool_calls = [e for e in evs if e["type"] == "tool.call"]
    assert len(tool_calls) == len(calls)
    leaks = []
    for call_ev in tool_calls:
        outcome = by_call[call_ev["call_id"]]
        if "tool.refused" not in outcome:
            result = next(
                e for e in evs if e["type"] == "tool.result" and e["call_id"] == call_ev["call_id"]
            )
            # git_diff on an outside path may answer "not in the repo" instead: never content
            if result["data"]["ok"] and "outside" in result["data"]["output"]:
                leaks.append((call_ev["data"], result["data"]))
            elif call_ev["data"]["name"] != "git_diff":
                leaks.append((call_ev["data"], result["data"]))
    assert not leaks, json.dumps(leaks, indent=1)[:3000]
    assert (outside / "secret.txt").read_text() == "outside\n"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (ws / ".git" / "config").read_text() == git_config
    assert not (ws / ".git" / "hooks" / "pre-commit").exists()
    assert not (tmp_path / "escape.txt").exists()
    assert final["status"] in ("completed", "failed")
    api.close()


def test_shell_env_has_no_provider_keys_or_token(daemon, tmp_path):
    ws = make_repo(tmp_path / "ws", LEAK_ENV_SPEC)
    (ws / "greet.txt").write_text("hello\n")
    git_add = subprocess.run(["git", "-C", str(ws), "commit", "-qam", "hello"], capture_output=True)
    assert git_add.returncode == 0
    (ws / ".harness").mkdir()
    plan = {"text": '{"steps": [{"title": "Print the environment"}]}'}
    shell = {
        "tool_calls": [
            {
                "name": "shell",
                "arguments": {
                    "command": "env; printenv OPENAI_API_KEY HARNESS_AUTH_TOKEN; echo done"
                },
            }
        ]
    }
    model = write_script(tmp_path / "s.json", plan, shell, {"text": "printed"}, DOCS)
    api = Api(daemon.url, TOKEN)
    final, evs = _run(api, ws, model)
    verify = [
        e for e in evs if e["type"] == "verify.result" and e["data"]["command"] == "env | sort"
    ]
    assert verify and verify[0]["data"]["ok"], final
    assert "PATH=" in verify[0]["data"]["output"]
    results = [e for e in evs if e["type"] == "tool.result" and e["data"]["name"] == "shell"]
    assert results and "done" in results[0]["data"]["output"], [e["type"] for e in evs]
    for text in (verify[0]["data"]["output"], results[0]["data"]["output"]):
        assert "OPENAI_API_KEY" not in text and "HARNESS_AUTH_TOKEN" not in text
        for s in SECRETS:
            assert s not in text
    api.close()


def test_attachment_names_cannot_escape_the_attachments_dir(daemon, tmp_path):
    ws = make_repo(tmp_path / "ws")
    api = Api(daemon.url, TOKEN)
    sid = api.post("/v1/sessions", {"workspace": str(ws)})["id"]
    data: Path = daemon.extra["data"]
    before = {p for p in data.rglob("*") if p.is_file()}
    names = ["../../escape.txt", "/etc/evil.txt", "a/../../../b.txt", "..", ".", "..\\..\\win.txt",
             "x\x00.txt", "....//....//deep.txt", "%2e%2e%2fenc.txt", ".git", "", " "]  # fmt: skip
    for name in names:
        r = api.c.post(f"/v1/sessions/{sid}/attachments",
                       files={"file": (name, b"payload", "text/plain")})  # fmt: skip
        daemon.extra["bodies"].append(r.text)
        assert r.status_code < 500, (name, r.status_code, r.text)
    attach_dir = data / "sessions" / sid / "attachments"
    new = {p for p in data.rglob("*") if p.is_file()} - before
    for p in new:
        if p.read_bytes() == b"payload":
            assert p.parent == attach_dir, p
    assert not list(tmp_path.rglob("escape.txt")) and not (data / "escape.txt").exists()
    assert not Path("/etc/evil.txt").exists()
    api.close()


def error_bodies(url: str) -> list[str]:
    """Error bodies of every kind the auth layer sends, from every route: no token, a wrong token,
    a wrong Host, a foreign Origin (each with the real token in the request, to tempt an echo)."""
    bodies = []
    for method, path in all_routes():
        for headers in (
            {},
            {"authorization": "Bearer " + TOKEN[:-1] + "x"},
            {"host": "evil.example", "authorization": f"Bearer {TOKEN}"},
            {"origin": "https://evil.example", "authorization": f"Bearer {TOKEN}"},
        ):
            bodies.append(httpx.request(method, url + path, headers=headers, timeout=10).text)
    return bodies


def test_secrets_never_appear_in_events_logs_exports_or_errors(daemon, tmp_path):
    """Self-contained (passes alone and in any order); whatever the module's other tests made
    before it (runs, sessions, error bodies) is searched too."""
    bodies = error_bodies(daemon.url)
    assert len(bodies) == 4 * len(all_routes())
    daemon.extra["bodies"] += bodies
    api = Api(daemon.url, TOKEN)
    ws = make_repo(tmp_path / "ws")
    # a run over HTTP with the provider key (the fake OpenAI server gets it as Bearer)
    fake_url = daemon.extra["fake"].url
    base = fake_url.removesuffix("/v1")
    httpx.post(f"{base}/_fake/responses", timeout=10, json=[
        {"text": '{"steps": [{"title": "Write hello"}]}'},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}]},
        {"text": "done"}, {"text": "no docs"}]).raise_for_status()  # fmt: skip
    rid = api.start_run(ws, "openai:gpt-4.1-mini")["id"]
    a = api.wait_approval(rid)
    api.approve(rid, a["id"])
    final = api.wait_status(rid, 60)
    assert final["status"] == "completed", final
    seen = httpx.get(f"{base}/_fake/requests", timeout=10).json()
    assert seen, "the model server was used"
    # error bodies of many kinds
    for method, path, body in [("GET", "/v1/runs/nope", None), ("POST", "/v1/runs", {"x": 1}),
                               ("POST", "/v1/runs", {"workspace": "/nope", "spec": "s"}),
                               ("GET", "/v1/nope", None)]:  # fmt: skip
        r = api.c.request(method, path, json=body)
        daemon.extra["bodies"].append(r.text)
    zips = []
    for run in api.get("/v1/runs"):
        r = api.c.get(f"/v1/runs/{run['id']}/export")
        assert r.status_code == 200
        zips.append(r.content)
    for s in api.get("/v1/sessions"):
        r = api.c.get(f"/v1/sessions/{s['id']}/export")
        assert r.status_code == 200
        zips.append(r.content)
    api.close()
    leaks = []
    for z in zips:
        with zipfile.ZipFile(io.BytesIO(z)) as zf:
            for name in zf.namelist():
                blob = zf.read(name)
                leaks += [(f"zip:{name}", s) for s in SECRETS if s.encode() in blob]
    for p in daemon.extra["data"].rglob("*"):
        if p.is_file():
            blob = p.read_bytes()
            leaks += [(str(p), s) for s in SECRETS if s.encode() in blob]
    wait_for(lambda: True, 0.1)
    logs = daemon.stderr() + daemon.stdout()
    leaks += [("agentd log", s) for s in SECRETS if s in logs]
    for body in daemon.extra["bodies"]:
        leaks += [("error body", s) for s in SECRETS if s in body]
    assert not leaks, leaks
