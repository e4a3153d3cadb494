"""The fake model server as a separate process, as CLI and end-to-end tests use it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx

from harness_ls.models import Message, OpenAIProvider


def ask(p: OpenAIProvider) -> str:
    return asyncio.run(p.complete("m", [Message(role="user", content="q")])).text


def test_process_prints_url_and_serves_the_script(tmp_path, fast):
    script = tmp_path / "s.json"
    script.write_text(
        json.dumps({"responses": [{"text": "from a process"}], "default": {"text": "again"}})
    )
    cmd = [
        sys.executable,
        "-m",
        "harness_ls.testing.fake_models",
        "--port",
        "0",
        "--script",
        str(script),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        p = OpenAIProvider(url, settings=fast)
        assert ask(p) == "from a process"
        assert ask(p) == "again"
        root = url.removesuffix("/v1")
        got = httpx.get(f"{root}/_fake/requests").json()
        assert [r["messages"][0]["content"] for r in got] == ["q", "q"]
        httpx.post(f"{root}/_fake/responses", json=[{"text": "queued later"}])
        assert ask(p) == "queued later"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
