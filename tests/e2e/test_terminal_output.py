"""What agentctl prints to a terminal, end to end: a real agentd (mode auto-edit) whose fake
model writes a file holding terminal escape sequences, and a real agentctl on a pseudo-terminal.

`agentctl diff` printed the model's bytes raw (fails on ac122d8): `ESC]52;…BEL` writes the
clipboard of many terminals, `ESC[2J` clears the screen, `ESC[8m` hides the rest of a diff
line. On a terminal every control and bidi character except agentctl's own colours is now made
visible; piped output (`agentctl diff > x.patch`) stays byte for byte. The same for a session
title an HTTP client chose, shown by `agentctl session list`.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import Api, make_repo, run_denying, scripted_agentd

TOKEN = "tok-e2e-terminal-3c4d5e6f7a8b"
AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
EVIL = "ok \x1b]52;c;ZXZpbA==\x07 \x1b[2J \x1b[8mhidden\x1b[0m \u202eevil\n"
RAW = ("\x1b]52", "\x1b[2J", "\x1b[8m", "\u202e")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("terminal"), TOKEN, "auto-edit") as d:
        yield d


def _on_a_terminal(daemon, cwd: Path, *args: str) -> str:
    """agentctl's stdout and stderr as a terminal receives them."""
    master, slave = pty.openpty()
    env = {**daemon.extra["env"], "TERM": "xterm-256color"}
    p = subprocess.Popen([*AGENTCTL, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave)  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert p.wait(30) == 0, b"".join(chunks)
    return b"".join(chunks).decode("utf-8", "replace")


def test_model_bytes_reach_a_terminal_only_made_visible(daemon, tmp_path: Path) -> None:
    ws = make_repo(tmp_path / "ws")
    write = {"name": "write_file", "arguments": {"path": "notes.txt", "content": EVIL}}
    greet = {"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}
    r = run_denying(daemon, TOKEN, ws, {"tool_calls": [write, greet]})
    assert (ws / "notes.txt").read_text() == EVIL

    shown = _on_a_terminal(daemon, ws, "diff", r.run_id)
    # (the model's reset too: a coloured diff reveals the file bytes before painting them)
    assert "+ok ⟨ESC⟩]52;c;ZXZpbA==⟨BEL⟩ ⟨ESC⟩[2J ⟨ESC⟩[8mhidden⟨ESC⟩[0m ⟨U+202E⟩evil" in shown
    assert not any(raw in shown for raw in RAW), repr(shown)
    assert "\x1b[32m" in shown  # agentctl's own colours stay

    piped = subprocess.run([*AGENTCTL, "diff", r.run_id], cwd=ws, env=daemon.extra["env"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "+" + EVIL.rstrip("\n") in piped.stdout.splitlines()  # a patch keeps its bytes

    api = Api(daemon.url, TOKEN)
    api.post("/v1/sessions", {"workspace": str(ws), "title": "chat \x1b]0;PWNED\x07 \u202eevil"})
    api.close()
    listed = _on_a_terminal(daemon, ws, "session", "list")
    assert "chat ⟨ESC⟩]0;PWNED⟨BEL⟩ ⟨U+202E⟩evil" in listed
    assert not any(raw in listed for raw in (*RAW, "\x1b]0;")), repr(listed)
