"""Spec paths a hostile repository or HTTP client controls, end to end: a real agentd (token
auth, mode ask) whose model is the fake OpenAI server.

A spec is read outside every tool — no policy, no approval, no sandbox — and its text goes into
the model's prompt; a spec-mode session rewrites its file with no approval. So a cloned
repository's `specs/setup/spec.md -> ../../.env` sent the user's `.env` to the model the moment
a spec session was opened on it (fails on ac122d8), and the same session could rewrite
`.vscode/settings.json` or a file outside the workspace through a link. Each is now refused with
a 4xx naming the path and what to do, and the model server receives nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import SPEC, Api, make_repo, queue, scripted_agentd, wait_for

TOKEN = "tok-e2e-spec-paths-0a9b8c7d6e5f"
SECRET = "hunter2-spec-path-secret-Q7W8E9"
MODEL = "openai:gpt-4o-mini"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("spec-paths"), TOKEN, "ask") as d:
        yield d


def _received(daemon) -> str:
    base = daemon.extra["fake"].url.removesuffix("/v1")
    return json.dumps(httpx.get(f"{base}/_fake/requests", timeout=10).json())


def _hostile_repo(root: Path) -> Path:
    ws = make_repo(root / "ws")
    (ws / ".env").write_text(f"DB_PASSWORD={SECRET}\n")
    (ws / ".vscode").mkdir()
    (ws / ".vscode" / "settings.json").write_text('{"editor.tabSize": 4}\n')
    outside = root / "outside"
    outside.mkdir()
    (outside / "spec.md").write_text(SPEC.replace("greet", "private"))
    links = {
        "specs/setup/spec.md": "../../.env",
        "specs/editor/spec.md": "../../.vscode/settings.json",
        "specs/away/spec.md": str(outside / "spec.md"),
        "specs/alias/spec.md": "../greet/spec.md",
    }
    for rel, target in links.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, ws / rel)
    os.symlink(str(outside), ws / "specs" / "folder")
    return ws


def _error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()["error"]
    assert "Traceback" not in r.text
    return body


def test_a_spec_session_reads_and_rewrites_only_a_markdown_file_of_the_workspace(
    daemon, tmp_path: Path
) -> None:
    ws = _hostile_repo(tmp_path)
    api = Api(daemon.url, TOKEN)
    before = _received(daemon)

    def create(spec_path: str) -> httpx.Response:
        body = {"workspace": str(ws), "mode": "spec", "spec_path": spec_path, "model": MODEL}
        return api.c.post("/v1/sessions", json=body)

    err = _error(create("specs/setup/spec.md"), 403)
    assert err["message"].startswith("spec specs/setup/spec.md is .env (through the link")
    assert "its text would go to the model" in err["message"]
    err = _error(create("specs/editor/spec.md"), 403)
    assert "goes through the symbolic link" in err["message"]
    assert ".vscode/settings.json" in err["message"]
    err = _error(create("specs/alias/spec.md"), 403)
    assert err["hint"] == (
        "open the session on specs/greet/spec.md if that is the spec, or replace the link with a copy"
    )
    for outside in ("specs/away/spec.md", "specs/folder/spec.md", str(tmp_path / "outside/x.md")):
        err = _error(create(outside), 403)
        assert f"spec {outside} is outside the workspace {ws}" in err["message"], err
        assert err["hint"].startswith("copy the spec into the workspace")
    for direct, why in ((".env", "its text would go to the model"),
                        (".vscode/settings.json", "editor settings"),
                        (".harness/policy.toml", "the harness settings the agent obeys")):  # fmt: skip
        err = _error(create(direct), 403)
        assert why in err["message"], err
    err = _error(create("conftest.py"), 422)
    assert err["message"] == "spec path conftest.py is not a markdown file (.md)"

    assert _received(daemon) == before  # no session, no prompt: the model saw nothing
    assert (ws / ".vscode" / "settings.json").read_text() == '{"editor.tabSize": 4}\n'
    api.close()


def test_a_spec_swapped_for_a_link_after_the_session_began_is_not_read(
    daemon, tmp_path: Path
) -> None:
    ws = _hostile_repo(tmp_path)
    api = Api(daemon.url, TOKEN)
    body = {
        "workspace": str(ws),
        "mode": "spec",
        "spec_path": "specs/greet/spec.md",
        "model": MODEL,
    }
    sid = api.post("/v1/sessions", body)["id"]
    spec = ws / "specs" / "greet" / "spec.md"
    spec.unlink()
    os.symlink("../../.env", spec)  # e.g. a run in the same workspace, approved or full-auto
    queue(daemon.extra["fake"].url, {"text": "ok"})
    api.post(f"/v1/sessions/{sid}/messages", {"text": "tidy the spec"}, status=202)

    def ended() -> list[dict] | None:
        evs = api.events(sid, "sessions")
        return evs if any(e["type"] == "turn.completed" for e in evs) else None

    events = wait_for(ended, 60, what="the turn to end")
    done = next(e for e in events if e["type"] == "turn.completed")
    assert done["data"]["ok"] is False, done
    assert "is .env (through the link specs/greet/spec.md)" in json.dumps(done["data"]), done
    assert SECRET not in _received(daemon)
    assert SECRET not in json.dumps(events)
    api.close()


def test_a_run_reads_its_spec_only_inside_the_workspace(daemon, tmp_path: Path) -> None:
    ws = _hostile_repo(tmp_path)
    api = Api(daemon.url, TOKEN)
    before = _received(daemon)

    def start(spec: str) -> httpx.Response:
        return api.c.post("/v1/runs", json={"workspace": str(ws), "spec": spec, "model": MODEL})

    err = _error(start("specs/setup/spec.md"), 403)
    assert err["message"].startswith("spec specs/setup/spec.md is .env (through the link")
    err = _error(start("specs/away/spec.md"), 403)
    assert err["message"] == (
        f"spec specs/away/spec.md is outside the workspace {ws} "
        f"(a link to {tmp_path / 'outside' / 'spec.md'})"
    )
    err = _error(start(str(tmp_path / "outside" / "spec.md")), 403)
    assert (
        err["message"] == f"spec {tmp_path / 'outside' / 'spec.md'} is outside the workspace {ws}"
    )
    big = ws / "specs" / "big" / "spec.md"
    big.parent.mkdir()
    big.write_text(SPEC + "x" * (1 << 20))
    err = _error(start("specs/big/spec.md"), 422)
    assert err["message"] == "spec specs/big/spec.md is larger than 1048576 bytes (1 MiB)"
    os.mkfifo(ws / "specs" / "fifo.md")
    err = _error(start("specs/fifo.md"), 422)
    assert err["message"] == "spec specs/fifo.md not found"

    assert _received(daemon) == before
    api.close()


def test_a_new_spec_is_never_written_through_a_link_out_of_the_workspace(
    daemon, tmp_path: Path
) -> None:
    ws = _hostile_repo(tmp_path)
    api = Api(daemon.url, TOKEN)
    r = api.c.post("/v1/specs", json={"workspace": str(ws), "name": "folder"})
    err = _error(r, 403)
    assert err["message"] == (
        f"specs/folder/spec.md leads outside the workspace {ws} through a symbolic link "
        f"(to {tmp_path / 'outside'})"
    )
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["spec.md"]
    assert (tmp_path / "outside" / "spec.md").read_text() == SPEC.replace("greet", "private")
    api.close()
