"""A run's progress line carries a model's words (its plan-step titles) to the editor, which
shows them in a status line or a notification — for terminal editors, in a terminal. On eafb02f
an `ESC]52;…BEL` (clipboard write) and a U+202E (reorders the line) in a step title reached the
client raw, in `$/progress` and in `window/showMessage`. A real harness-ls and a scripted model."""

from __future__ import annotations

import json
import sys

import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness_ls.testing.greet import DOCS, DONE, WRITE
from tests.lsp.test_progress import NO_SIDECAR, _approve_when_asked
from tests.lsp.test_runs import open_greet, run_spec, wait_for

CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"])
TITLE = "Write \x1b]52;c;ZXZpbA==\x07hello \u202etxt.greet"
SHOWN = "Write ⟨ESC⟩]52;c;ZXZpbA==⟨BEL⟩hello ⟨U+202E⟩txt.greet"
PLAN = {"text": json.dumps({"steps": [{"title": TITLE, "spec_line": 2}]})}
RAW = ("\x1b", "\x07", "\u202e")


@pytest_lsp.fixture(config=CONFIG)
async def hostile_client(lsp_client: LanguageClient, tmp_path):
    caps = client_capabilities("neovim@v0.11")
    await open_greet(lsp_client, tmp_path, caps, [PLAN, WRITE, DONE, DOCS], **NO_SIDECAR)
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def hostile_no_progress_client(lsp_client: LanguageClient, tmp_path):
    caps = client_capabilities("neovim@v0.11")
    caps.window.work_done_progress = False
    await open_greet(lsp_client, tmp_path, caps, [PLAN, WRITE, DONE, DOCS], **NO_SIDECAR)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_a_step_title_reaches_progress_reports_only_made_visible(hostile_client):
    client = hostile_client
    await run_spec(client)
    await _approve_when_asked(client)
    reports = await wait_for(
        lambda: next(
            (
                v
                for v in client.progress_reports.values()
                if isinstance(v[-1], t.WorkDoneProgressEnd)
            ),
            None,
        )
    )
    messages = [r.message for r in reports if getattr(r, "message", None)]
    assert f"execute: step 1/1 — {SHOWN}" in messages
    assert not [m for m in messages if any(c in m for c in RAW)], messages


async def test_a_step_title_reaches_show_message_only_made_visible(hostile_no_progress_client):
    client = hostile_no_progress_client
    await run_spec(client)
    await _approve_when_asked(client)
    await wait_for(lambda: any("completed" in m.message for m in client.messages))
    messages = [m.message for m in client.messages]
    assert f"harness: greet — execute: step 1/1 — {SHOWN} (0%)" in messages
    assert not [m for m in messages if any(c in m for c in RAW)], messages
