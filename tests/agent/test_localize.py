"""Localization: the run's model picks files from the ranked map before the excerpts are cut.

Real runs on a real git repo (harness_ls/testing/shop.py: `ledger.py` is the file the change
needs, and the plain ranking leaves it without an excerpt) against the fake OpenAI server on
127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness_ls.agent import localize
from harness_ls.context import build_context
from harness_ls.testing.fake_models import FakeOpenAIServer
from harness_ls.testing.shop import SECRET, SPEC, SPEC_PATH, TRUTH, make_shop

from .conftest import events

BUDGET = 1500


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_shop(tmp_path / "shop")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAIServer(default={"text": "Done."}) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("HARNESS_MODEL_RETRIES", "0")  # a 5xx is answered at once
        yield srv


@pytest.fixture
def quick(harness):
    """A run with only the model calls these tests look at: localize, then execute steps."""
    harness.options.update(plan_with_model=False, docs=False, checkpoints=False)
    harness.options.update(context_tokens=BUDGET)
    return harness


def plain_excerpts(ws: Path, data: Path) -> list[str]:
    task = f"Apply the discount price rule to the cart total when the cart is settled.\n{SPEC}"
    return build_context(ws, task, BUDGET, data_dir=data, exclude=[SPEC_PATH]).excerpt_files


async def run(h: Any, ws: Path, model: str = "openai:gpt-4.1") -> tuple[Any, list[Any]]:
    meta = await h.start_run(str(ws), SPEC_PATH, model=model)
    final = await h.wait_run(meta.id, 60)
    assert final.status == "completed", final.outcome
    return final, events(h, meta.id)


def one(evs: list[Any], kind: str) -> Any:
    found = [e for e in evs if e.type == kind]
    assert len(found) == 1, [e.type for e in evs]
    return found[0]


def prompt_of(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in request["messages"])


async def test_model_pick_moves_a_low_ranked_file_into_the_excerpts(quick, shop, server, tmp_path):
    assert TRUTH not in plain_excerpts(shop, tmp_path / "data")  # the ranking alone misses it
    server.push_text(json.dumps([TRUTH]), usage={"input_tokens": 700, "output_tokens": 9})
    final, evs = await run(quick, shop)

    ask = prompt_of(server.requests[0])
    assert "JSON list" in ask and TRUTH in ask and "Apply the discount price rule" in ask
    assert SPEC_PATH not in ask and ".harness/" not in ask and SECRET not in ask
    loc = one(evs, "context.localized").data
    assert loc["picked"] == [TRUTH] and loc["fallback"] is False and loc["rejected"] == []
    assert loc["candidates"] >= localize.MIN_FILES and "note" not in loc
    assert loc["usage"] == {"input_tokens": 700, "output_tokens": 9, "model_calls": 1}
    built = one(evs, "context.built").data
    assert built["preferred"] == [TRUTH] and built["files"][0] == TRUTH
    assert TRUTH in built["excerpt_files"] and built["tokens"] <= BUDGET
    execute = prompt_of(server.requests[1])
    excerpts = execute.split("## Relevant excerpts", 1)[1]
    assert "def settle(entries):" in excerpts
    # the pass's tokens count toward the run's usage: one call more than the steps made
    usage = one(evs, "run.completed").data["usage"]
    assert usage["model_calls"] == len(server.requests) and usage["input_tokens"] >= 700


@pytest.mark.parametrize(
    ("answer", "note", "rejected"),
    [
        (
            '["../../../etc/passwd", "/etc/passwd", "src/../../outside.py"]',
            "the model picked no file from the map",
            ["../../../etc/passwd", "/etc/passwd", "src/../../outside.py"],
        ),
        (
            f'["{SPEC_PATH}", ".env", ".harness/notes.md", ".git/config"]',
            "the model picked no file from the map",
            [SPEC_PATH, ".env", ".harness/notes.md", ".git/config"],
        ),
        ("Sure! The files are ledger and pricing.", "the answer has no JSON list", []),
        ('["src/shop/ledger.py", ', "the answer is not valid JSON", []),
        ('{"files": "src/shop/ledger.py"}', "the answer is not a JSON list of paths", []),
        ("[1, 2, 3]", "the answer is not a JSON list of paths", []),
    ],
    ids=["outside-workspace", "excluded-files", "prose", "broken-json", "not-a-list", "numbers"],
)
async def test_hostile_answer_falls_back_to_the_plain_ranking(
    quick, shop, server, tmp_path, answer, note, rejected
):
    plain = plain_excerpts(shop, tmp_path / "data")
    server.push_text(answer)
    _, evs = await run(quick, shop)
    loc = one(evs, "context.localized").data
    assert loc["picked"] == [] and loc["fallback"] is True and loc["rejected"] == rejected
    assert loc["note"].startswith(note) and loc["note"].endswith("; using the plain ranking")
    built = one(evs, "context.built").data
    assert "preferred" not in built and built["excerpt_files"] == plain
    assert built["tokens"] <= BUDGET
    execute = prompt_of(server.requests[1])
    assert SECRET not in execute and "harness scaffolding" not in execute
    assert "# Goal\n\nApply" not in execute.split("Repository context", 1)[1]  # spec not quoted


async def test_model_error_falls_back_and_the_run_goes_on(quick, shop, server, tmp_path):
    plain = plain_excerpts(shop, tmp_path / "data")
    server.push_error(500, "the fake is down")
    final, evs = await run(quick, shop)
    loc = one(evs, "context.localized").data
    assert loc["fallback"] is True and "usage" not in loc
    assert loc["note"].startswith("the localization request failed")
    assert "the fake is down" in loc["note"] and loc["note"].endswith("using the plain ranking")
    assert one(evs, "context.built").data["excerpt_files"] == plain
    assert final.status == "completed"


async def test_slow_model_times_out_and_falls_back(quick, shop, server, monkeypatch):
    monkeypatch.setattr(localize, "TIMEOUT_S", 0.5)
    server.push_text(json.dumps([TRUTH]), delay=3)
    _, evs = await run(quick, shop)
    loc = one(evs, "context.localized").data
    assert loc["fallback"] is True and loc["note"].startswith("the model did not answer within")
    assert "preferred" not in one(evs, "context.built").data


async def test_mixed_answer_keeps_only_map_paths_at_most_five(quick, shop, server):
    picks = ["/etc/passwd", f"./{TRUTH}", TRUTH] + [
        f"src/shop/pricing_{k}.py" for k in range(9, 15)
    ]
    server.push_text(f"```json\n{json.dumps(picks)}\n```")
    _, evs = await run(quick, shop)
    loc = one(evs, "context.localized").data
    assert loc["picked"] == [TRUTH] + [f"src/shop/pricing_{k}.py" for k in range(9, 13)]
    assert loc["rejected"] == ["/etc/passwd"] and loc["fallback"] is False
    assert loc["note"] == "kept the first 5 of the 7 files the model picked"
    built = one(evs, "context.built").data
    assert built["files"][:5] == loc["picked"] and built["tokens"] <= BUDGET


async def test_offline_run_asks_nothing(quick, shop, server):
    meta = await quick.start_run(str(shop), SPEC_PATH, model="offline")
    await quick.wait_run(meta.id, 60)
    assert server.requests == []
    assert "context.localized" not in [e.type for e in events(quick, meta.id)]


@pytest.mark.parametrize("how", ["config", "option"])
async def test_localization_off_makes_no_request(quick, shop, server, how):
    if how == "config":
        quick.data_dir.mkdir(parents=True, exist_ok=True)
        (quick.data_dir / "config.toml").write_text("[context]\nlocalize = false\n")
    else:
        quick.options["localize"] = False
    _, evs = await run(quick, shop)
    assert "context.localized" not in [e.type for e in evs]
    assert "JSON list" not in prompt_of(server.requests[0])  # the first request is a step's
    assert "preferred" not in one(evs, "context.built").data


async def test_small_repo_is_not_localized(quick, repo, server):
    meta = await quick.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
    await quick.wait_run(meta.id, 60)
    assert "context.localized" not in [e.type for e in events(quick, meta.id)]
    assert all("JSON list" not in prompt_of(r) for r in server.requests)


@pytest.mark.parametrize("budget", [200, 600, 1500, 4000])
def test_preferred_files_never_break_the_budget_or_show_hidden_files(shop, tmp_path, budget):
    hidden = [SPEC_PATH, ".harness/notes.md", ".env", "../outside.py"]
    res = build_context(shop, SPEC, budget, data_dir=tmp_path / "data", exclude=[SPEC_PATH],
                        prefer=[*hidden, TRUTH])  # fmt: skip
    assert res.tokens <= budget
    assert res.files[0] == TRUTH
    assert not set(hidden) & set(res.files + res.excerpt_files)
    assert SECRET not in res.text and "harness scaffolding" not in res.text


def test_parse_picks_reads_the_usual_shapes():
    shown = ["a.py", "b/c.py"]
    assert localize.parse_picks('["b/c.py", "a.py"]', shown) == (["b/c.py", "a.py"], [])
    assert localize.parse_picks('{"files": ["./a.py", "`a.py`"]}', shown) == (["a.py"], [])
    assert localize.parse_picks('Here: ["a.py", "x.py"] hope it helps', shown) == (
        ["a.py"],
        ["x.py"],
    )
    with pytest.raises(ValueError, match="no JSON list"):
        localize.parse_picks("a.py", shown)


def test_enabled_follows_option_then_user_config(tmp_path):
    assert localize.enabled(tmp_path, None) is True
    (tmp_path / "config.toml").write_text("[context]\nlocalize = false\n")
    assert localize.enabled(tmp_path, None) is False
    assert localize.enabled(tmp_path, True) is True
    (tmp_path / "config.toml").write_text("[context]\nlocalize = 'no'\n")  # not a bool: default
    assert localize.enabled(tmp_path, None) is True
