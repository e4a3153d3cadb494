"""The model path as a run sees it, against the real fake servers over HTTP on loopback:
usage that was not reported, retries as events, errors inside a stream, a stream cut after
tool-call fragments, the resolved model in the run's meta, and the listing's status."""

from __future__ import annotations

import email.utils
import time

import pytest

from harness_ls.testing.fake_models import FakeAnthropicServer, FakeOpenAIServer

from .conftest import events, git

PLAN = '{"steps": [{"title": "Say hello"}]}'


@pytest.fixture
def oai(monkeypatch):
    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("HARNESS_MODEL_RETRIES", "3")
        yield srv


@pytest.fixture
def ant(monkeypatch):
    with FakeAnthropicServer() as srv:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
        yield srv


@pytest.fixture
def repo(repo):
    """greet.txt already says hello: the acceptance test passes, so a run is plan, one step,
    verify and docs — three model calls, plus whatever the test makes fail."""
    (repo / "greet.txt").write_text("hello\n")
    git(repo, "commit", "-qam", "hello")
    return repo


def types(evs) -> list[str]:
    return [e.type for e in evs]


async def run_to_end(harness, repo, model: str):
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=model)
    final = await harness.wait_run(meta.id, 60)
    return final, events(harness, meta.id)


async def test_usage_not_reported_is_null_and_totals_say_na(harness, repo, oai):
    oai.push_text(PLAN, no_usage=True)
    oai.push_text("Nothing to change.", no_usage=True)
    oai.push_text("No docs needed.", no_usage=True)
    final, evs = await run_to_end(harness, repo, "openai:gpt-4.1")
    usages = [e.data for e in evs if e.type == "model.usage"]
    assert usages and all(u["input_tokens"] is None and u["output_tokens"] is None for u in usages)
    assert all(u["reported"] is False for u in usages)
    end = evs[-1]
    assert end.type == "run.completed"
    assert end.data["usage"]["input_tokens"] is None
    assert end.data["usage"]["unreported_calls"] == end.data["usage"]["model_calls"]
    summary = (harness.data_dir / "runs" / final.id / "artifacts" / "summary.md").read_text()
    assert "tokens n/a" in summary


async def test_some_usage_unreported_makes_the_total_a_lower_bound(harness, repo, oai):
    oai.push_text(PLAN, usage={"input_tokens": 100, "output_tokens": 10})
    oai.push_text("Nothing to change.", no_usage=True)
    oai.push_text("No docs needed.", usage={"input_tokens": 50, "output_tokens": 5})
    final, evs = await run_to_end(harness, repo, "openai:gpt-4.1")
    usage = evs[-1].data["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (150, 15)
    assert usage["unreported_calls"] == 1 and usage["model_calls"] == 3
    summary = (harness.data_dir / "runs" / final.id / "artifacts" / "summary.md").read_text()
    assert "≥ 150→15 tokens" in summary


async def test_retries_are_events_and_retry_after_is_honoured(harness, repo, oai):
    oai.push_text(PLAN)
    oai.push_error(429, "slow down", retry_after=0.2, request_id="req_abc123")
    date = email.utils.formatdate(time.time() + 1, usegmt=True)
    oai.push_error(503, "busy", retry_after=date)
    oai.push_text("Done.")
    oai.push_text("No docs needed.")
    final, evs = await run_to_end(harness, repo, "openai:gpt-4.1")
    assert final.status == "completed", final.outcome
    retries = [e.data for e in evs if e.type == "model.retry"]
    assert [(r["attempt"], r["status"], r["error"]) for r in retries] == [
        (1, 429, "model_rate_limited"),
        (2, 503, "model_unavailable"),
    ]
    assert retries[0]["retry_after_s"] == 0.2 and retries[0]["delay_s"] == 0.2
    assert retries[0]["request_id"] == "req_abc123"
    assert retries[0]["max_attempts"] == 4 and retries[0]["phase"] == "request"
    # an HTTP-date Retry-After is honoured (seconds until that date, rounded down by the clock)
    assert 0.0 <= retries[1]["retry_after_s"] <= 1.0
    assert retries[1]["delay_s"] == retries[1]["retry_after_s"]


@pytest.mark.parametrize("server", ["oai", "ant"])
async def test_overloaded_error_mid_stream_is_retried_and_partial_text_discarded(
    harness, repo, server, request
):
    srv = request.getfixturevalue(server)
    model = "openai:gpt-4.1" if server == "oai" else "anthropic:claude-sonnet-4-5"
    srv.push_text(PLAN)
    overloaded = {"type": "overloaded_error", "message": "Overloaded"}
    first_text = 2 if server == "oai" else 4  # chunks up to and including the first text
    srv.push_text("Half an ans", "wer that breaks", stream_error=overloaded, error_after=first_text)
    srv.push_text("The whole answer.")
    srv.push_text("No docs needed.")
    final, evs = await run_to_end(harness, repo, model)
    assert final.status == "completed", final.outcome
    t = types(evs)
    discarded = [e.data for e in evs if e.type == "message.discarded"]
    assert discarded == [{"chars": len("Half an ans"), "reason": discarded[0]["reason"]}]
    assert "Overloaded" in discarded[0]["reason"]
    retry = next(e.data for e in evs if e.type == "model.retry")
    assert retry["phase"] == "stream" and retry["error"] == "model_unavailable"
    assert t.index("message.discarded") < t.index("model.retry")
    messages = [e.data["content"] for e in evs if e.type == "message"]
    assert "The whole answer." in messages
    assert not any("Half an ans" in m for m in messages)


@pytest.mark.parametrize("server", ["oai", "ant"])
async def test_invalid_request_error_mid_stream_fails_with_the_providers_message(
    harness, repo, server, request
):
    srv = request.getfixturevalue(server)
    model = "openai:gpt-4.1" if server == "oai" else "anthropic:claude-sonnet-4-5"
    srv.push_text(PLAN)
    bad = {"type": "invalid_request_error", "message": "tools[0].name is too long"}
    srv.push_text("Start", stream_error=bad, error_after=2)
    final, evs = await run_to_end(harness, repo, model)
    assert final.status == "failed"
    assert "tools[0].name is too long" in evs[-1].data["error"]
    assert "model.retry" not in types(evs)


async def test_stream_cut_after_tool_call_fragments_runs_no_tool(harness, repo, oai):
    oai.push_text(PLAN)
    # the write_file call is cut after its first argument fragments: nothing may be written
    oai.push_tool_call(
        "write_file", {"path": "evil.txt", "content": "x" * 200}, cut_after=4, cut_mode="abort"
    )
    oai.push_text("Nothing to write after all.")
    oai.push_text("No docs needed.")
    final, evs = await run_to_end(harness, repo, "openai:gpt-4.1")
    assert final.status == "completed", final.outcome
    assert not (repo / "evil.txt").exists()
    assert "tool.call" not in types(evs)
    retry = next(e.data for e in evs if e.type == "model.retry")
    assert retry["error"] == "model_stream_cut" and retry["phase"] == "stream"


async def test_model_from_harness_model_is_recorded_in_meta(harness, repo, oai, monkeypatch):
    monkeypatch.setenv("HARNESS_MODEL", "openai:gpt-4.1")
    oai.push_text(PLAN)
    oai.push_text("Done.")
    oai.push_text("No docs needed.")
    meta = await harness.start_run(str(repo), "specs/greet/spec.md")
    final = await harness.wait_run(meta.id, 60)
    assert final.model == "openai:gpt-4.1"
    assert final.model_reason and "HARNESS_MODEL" in final.model_reason
    listed = next(m for m in harness.list_runs() if m.id == meta.id)
    assert listed.model == "openai:gpt-4.1"
    started = next(e for e in events(harness, meta.id) if e.type == "run.started")
    assert (started.data["provider"], started.data["model_id"]) == ("openai", "gpt-4.1")
