"""`agentctl context --localize`: the run's localization pass from the CLI, as a subprocess,
against the fake OpenAI server on 127.0.0.1 (a real HTTP model server)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness_ls.testing.fake_models import FakeOpenAIServer
from harness_ls.testing.shop import SECRET, SPEC_PATH, TRUTH, make_shop
from tests.cli.conftest import AGENTCTL, base_env, ok

MODEL = ("--model", "openai:gpt-4.1")  # served by the fake at OPENAI_BASE_URL


def run(ws: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    e = base_env(ws.parent / "home", HARNESS_DATA_DIR=str(ws.parent / "data"), **env)
    return subprocess.run([*AGENTCTL, "context", "--spec", SPEC_PATH, "--budget", "1500", *args],
                          cwd=ws, env=e, capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_shop(tmp_path / "shop")


def test_localize_ranks_the_models_pick_first_and_says_so(shop):
    with FakeOpenAIServer() as srv:
        srv.push_text(json.dumps(["/etc/passwd", TRUTH]))
        out = ok(run(shop, "--localize", *MODEL, "--json", OPENAI_BASE_URL=srv.base_url))
        ask = srv.requests[0]["messages"][0]["content"]
    doc = json.loads(out.stdout)
    assert doc["localized"]["picked"] == [TRUTH] and doc["localized"]["rejected"] == ["/etc/passwd"]
    assert doc["localized"]["model"] == "openai:gpt-4.1" and doc["files"][0] == TRUTH
    assert TRUTH in doc["excerpt_files"] and doc["tokens"] <= 1500
    assert SECRET not in ask and SECRET not in doc["text"]
    plain = json.loads(ok(run(shop, "--json")).stdout)  # without the flag: no model, no pick
    assert "localized" not in plain and TRUTH not in plain["excerpt_files"]


def test_localize_with_a_broken_model_prints_the_plain_context_and_a_note(shop):
    with FakeOpenAIServer() as srv:
        srv.push_error(500, "the fake is down")
        env = {"OPENAI_BASE_URL": srv.base_url, "HARNESS_MODEL_RETRIES": "0"}
        out = ok(run(shop, "--localize", *MODEL, **env))
    assert "the localization request failed" in out.stderr and "the fake is down" in out.stderr
    assert "using the plain ranking" in out.stderr and "Traceback" not in out.stderr
    assert "## Repository map" in out.stdout


def test_localize_without_a_model_says_so_and_asks_nothing(shop):
    (shop / ".env").unlink()  # its key would configure OpenAI itself
    out = ok(run(shop, "--localize", "--json"))
    doc = json.loads(out.stdout)
    assert doc["localized"]["picked"] == [] and doc["localized"]["fallback"] is True
    assert doc["localized"]["note"].startswith("no model to localize with")


def test_attach_prints_the_picks_or_why_the_plain_ranking_was_kept():
    from harness_ls.cli.render import EventPrinter, Style

    out: list[str] = []
    p = EventPrinter(Style(False), out.append)
    p({"type": "context.localized", "data": {"picked": [TRUTH, "src/shop/pricing_3.py"]}})
    p({"type": "context.localized", "data": {"picked": [], "fallback": True,
       "note": "the answer is not valid JSON; using the plain ranking\x1b[2J"}})  # fmt: skip
    text = "".join(out)
    assert f"model picked {TRUTH}, src/shop/pricing_3.py from the map" in text
    assert "localization: the answer is not valid JSON; using the plain ranking" in text
    assert "\x1b[2J" not in text  # a model's escape sequence never reaches the terminal raw


@pytest.mark.parametrize("target", ["../../.env.local", "../../../outside.md"])
def test_a_spec_that_is_a_link_to_a_secret_or_outside_never_reaches_the_model(shop, target):
    """A cloned repository's spec is a link to `.env.local` (or out of the workspace): `context
    --spec … --localize` read it through the link and sent its text to the model (d0bf429)."""
    leaked = "DB_PASSWORD=hunter2-context-4f1e"
    (shop / ".env.local").write_text(leaked + "\n")
    (shop.parent / "outside.md").write_text(leaked + "\n")
    (shop / SPEC_PATH).unlink()
    (shop / SPEC_PATH).symlink_to(target)
    with FakeOpenAIServer() as srv:
        srv.push_text(json.dumps([TRUTH]))
        out = run(shop, "--localize", *MODEL, "--json", OPENAI_BASE_URL=srv.base_url)
        asked = json.dumps(srv.requests)
    assert out.returncode != 0 and leaked not in asked and leaked not in out.stdout
    assert srv.requests == []
    why = ".env.local" if "env" in target else "is outside the workspace"
    assert f"spec {SPEC_PATH} " in out.stderr and why in out.stderr
