"""README's "Walkthrough" section is executable truth: its shell commands are extracted from the
code blocks under that heading and run in order, in a fresh temporary git repo, against a real
agentd whose model is the fake OpenAI-compatible server process.

Rewrites, all mechanical: `/path/to/agentctl` (and a bare `agentctl`) → the built
`bin/agentctl`; `http://127.0.0.1:8787`
→ the daemon's URL; `<run_id>`, `<step_id>`, `<session_id>`, `<tool_call_id>` → the ids the earlier
commands printed or the daemon's pending approvals; `curl -N` gets `--max-time 3` (it follows the
stream forever). A command that does not end on its own within a few seconds (`attach`, a
`session message` waiting for its approval) keeps running in the background until what it waits
for has happened; its exit code is checked then. The model comes from the environment as a user would set it (README's Models section:
`OPENAI_BASE_URL` + `HARNESS_MODEL`) for both the daemon and the CLI. The test provides `screenshot.png` (a 1x1 PNG),
since the walkthrough attaches one from the current directory, and points `MMDC` at mermaid-cli
(`make tools` installs it in the checkout) for `make diagrams` in the scaffolded repo.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from harness_ls.testing.owner import owner_token
from tests.conftest import require_tool
from tests.e2e.helpers import REPO, Api, clean_env, git, start_agentd, start_fake, wait_for

README = REPO / "README.md"
AGENTCTL = REPO / "bin" / "agentctl"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HEALTH_SPEC = (
    "# Goal\n\nAdd a /health endpoint that returns ok.\n\n# Constraints / nuances\n\n"
    "- Keep it to one file.\n\n# Acceptance tests\n\n- `grep -qx ok health.txt`\n"
)
MODEL_ANSWERS = [
    {"text": HEALTH_SPEC},  # spec prompt
    {"text": '{"steps": [{"title": "Serve ok on /health", "spec_line": 2}]}'},  # run: plan
    {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "health.txt", "content": "ok\n"}}
        ]
    },
    {"text": "health.txt says ok."},
    {"text": "Nothing to document."},
    {"tool_calls": [{"name": "write_file", "arguments": {"path": "notes.md", "content": "app\n"}}]},
    {"text": "src/app.py serves the app; I noted that in notes.md."},  # session turn 1
    {"text": "The screenshot shows a single pixel."},  # session turn 2 (image)
]


def find_mmdc() -> str | None:
    """mermaid-cli as a user would have it: $MMDC, PATH, or the checkout's `make tools` copy."""
    local = REPO / ".tools" / "node_modules" / ".bin" / "mmdc"
    return (
        os.environ.get("MMDC") or shutil.which("mmdc") or (str(local) if local.exists() else None)
    )


def walkthrough_commands(text: str) -> list[str]:
    """Shell lines of the ```sh blocks under the heading named Walkthrough (until the next
    heading of the same or a higher level)."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(r"#+\s+Walkthrough\s*$", ln)), None)
    if start is None:
        raise AssertionError("README.md has no 'Walkthrough' heading")
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    out, in_block = [], False
    for ln in lines[start + 1 :]:
        m = re.match(r"(#+)\s", ln)
        if not in_block and m and len(m.group(1)) <= level:
            break
        if ln.strip().startswith("```"):
            in_block = not in_block and ln.strip()[3:].strip() in ("sh", "bash", "shell", "console")
            continue
        if in_block and ln.strip():
            out.append(ln.strip())
    return out


def test_walkthrough_section_lists_the_commands_of_issue_8():
    cmds = walkthrough_commands(README.read_text())
    joined = "\n".join(cmds)
    for needle in ("agentctl init", "spec new", "spec prompt", "agentctl run", "attach",
                   "agentctl approve", "export", "agentctl list", "doctor", "session new",
                   "session message", "session approve", "session attach", "--mode spec",
                   "curl -N", "make diagrams"):  # fmt: skip
        assert needle in joined, needle


@pytest.fixture
def env(tmp_path):
    if not AGENTCTL.exists():
        subprocess.run(["make", "build"], cwd=REPO, check=True, capture_output=True, timeout=300)
    fake = start_fake(tmp_path, *MODEL_ANSWERS, default={"text": "ok"})
    data = tmp_path / "data"
    model = {"OPENAI_BASE_URL": fake.url, "HARNESS_MODEL": "openai:gpt-4.1-mini"}
    denv = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), **model)
    d = start_agentd(tmp_path, data, env=denv)
    ws = tmp_path / "myrepo"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "me@example.com")
    git(ws, "config", "user.name", "Me")
    (ws / "src").mkdir()
    (ws / "src" / "app.py").write_text("print('app')\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    (ws / "screenshot.png").write_bytes(PNG)
    cli_env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), **model)
    yield {"ws": ws, "daemon": d, "fake": fake, "cli_env": cli_env}
    d.stop()
    fake.stop()


class Runner:
    def __init__(self, ws: Path, daemon, cli_env: dict[str, str]) -> None:
        self.ws, self.d, self.env = ws, daemon, cli_env
        self.api = Api(daemon.url)
        self.ids: dict[str, str] = {}
        self.background: list[tuple[str, subprocess.Popen]] = []
        self.transcript: list[str] = []

    def pending(self, owner_key: str) -> str:
        owner = self.ids[owner_key]
        return self.api.wait_approval(owner, 30)["id"]

    def rewrite(self, line: str) -> list[str]:
        argv = shlex.split(line, comments=True)
        if not argv:
            return []
        out = []
        for a in argv:
            a = a.replace("/path/to/agentctl", str(AGENTCTL))
            a = a.replace("http://127.0.0.1:8787", self.d.url)
            a = a.replace("$(cat ~/.agent-harness/auth/token)", owner_token(self.d.url) or "")
            if "<run_id>" in a:
                a = a.replace("<run_id>", self.ids["run"])
            if "<session_id>" in a:
                a = a.replace("<session_id>", self.ids["session"])
            if "<step_id>" in a:
                a = a.replace("<step_id>", self.pending("run"))
            if "<tool_call_id>" in a:
                a = a.replace("<tool_call_id>", self.pending("session"))
            out.append(a)
        if out[0] == "agentctl":  # the later block assumes agentctl on PATH
            out[0] = str(AGENTCTL)
        if out[0] == "curl":
            out[1:1] = ["--max-time", "3", "-sS"]
        return out

    def settle(self) -> None:
        """Let background commands end unless they are waiting for a later answer."""
        deadline = time.monotonic() + 60
        while self.background and time.monotonic() < deadline:
            self.background = [(c, p) for c, p in self.background if not self._done(c, p)]
            if not self.background or self.api.get("/v1/approvals"):
                return
            time.sleep(0.1)

    def _done(self, cmd: str, p: subprocess.Popen) -> bool:
        if p.poll() is None:
            return False
        out, err = p.communicate()
        self.transcript.append(f"$ {cmd} (background)\n{out}{err}")
        assert p.returncode == 0, f"{cmd} exited {p.returncode}\n{out}\n{err}"
        return True

    def run(self, line: str) -> str:
        argv = self.rewrite(line)
        if not argv:
            return ""
        cmd = shlex.join(argv)
        p = subprocess.Popen(argv, cwd=self.ws, env=self.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            out, err = p.communicate(timeout=8)
        except subprocess.TimeoutExpired:
            self.background.append((cmd, p))
            return ""
        self.transcript.append(f"$ {cmd}\n{out}{err}")
        ok = p.returncode == 0 or (argv[0] == "curl" and p.returncode == 28 and "data:" in out)
        assert ok, f"{cmd} exited {p.returncode}\n{out}\n{err}\n" + "\n".join(self.transcript)
        assert "Traceback" not in err, err
        sub = argv[1:3]
        if sub[:1] == ["run"]:
            self.ids["run"] = re.search(r"run_[0-9A-Z]{26}", out).group(0)
            self.ids.setdefault("first_run", self.ids["run"])
        if sub == ["session", "new"]:
            self.ids["session"] = out.strip().splitlines()[-1]
        self.settle()
        return out


def test_readme_walkthrough_runs_as_written(env):
    lines = walkthrough_commands(README.read_text())
    # `make diagrams` renders with mermaid-cli (`make tools` installs it) in chromium
    mmdc = require_tool(find_mmdc(), "mmdc (mermaid-cli)", "run `make tools` in the checkout")
    require_tool("chromium")
    env["cli_env"]["MMDC"] = mmdc
    r = Runner(env["ws"], env["daemon"], env["cli_env"])
    outputs = {}
    try:
        for line in lines:
            outputs[line] = r.run(line)
        wait_for(lambda: r.settle() or not r.background, 60, what="background commands")
    finally:
        for _, p in r.background:
            p.kill()
    ws = env["ws"]
    assert (ws / "AGENTS.md").exists() and (ws / ".harness" / "policy.toml").exists()
    assert (ws / "specs" / "login" / "spec.md").exists()
    assert (ws / "specs" / "health" / "spec.md").read_text().startswith("# Goal")
    run = r.api.run(r.ids["first_run"])
    assert run["status"] == "completed", run
    assert (ws / "health.txt").read_text() == "ok\n"
    with zipfile.ZipFile(ws / "run.zip") as zf:
        names = zf.namelist()
        assert any(n.endswith("events.ndjson") for n in names), names
        events = [json.loads(x) for n in names if n.endswith("events.ndjson")
                  for x in zf.read(n).splitlines()]  # fmt: skip
        assert events[-1]["type"] == "run.completed"
    assert (ws / "notes.md").read_text() == "app\n"  # the session's approved write
    sessions = r.api.get("/v1/sessions")
    assert len(sessions) == 2 and {s.get("mode") or s["extra"].get("mode") for s in sessions}
    list_out = next(
        v for k, v in outputs.items() if k.split("#")[0].strip().endswith("agentctl list")
    )
    assert r.ids["first_run"] in list_out
    assert list((ws / "docs" / "diagrams").glob("*.png")), "make diagrams rendered nothing"
    curl_out = next(v for k, v in outputs.items() if k.startswith("curl"))
    assert "data:" in curl_out and "session.created" in curl_out
    print(f"\nwalkthrough: {len(lines)} commands ran")
