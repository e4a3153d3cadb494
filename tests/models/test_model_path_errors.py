"""Provider-level edges of the model path against the real fake servers: a base URL without
/v1, retries reported to a listener as they happen, errors inside a stream classified by type."""

from __future__ import annotations

import pytest

from harness_ls.models import (
    AnthropicProvider,
    BadRequest,
    Message,
    OpenAIProvider,
    ProviderUnavailable,
    RateLimited,
    Usage,
)
from harness_ls.models.errors import EndpointNotFound
from harness_ls.models.http import RetryNotice, retry_listener
from harness_ls.models.types import collect

HI = [Message(role="user", content="hi")]


async def test_base_url_without_v1_names_the_url_and_suggests_v1(oai, fast):
    root = oai.base_url.removesuffix("/v1")
    with pytest.raises(EndpointNotFound) as info:
        await OpenAIProvider(root, settings=fast).complete("gpt-4.1", HI)
    assert f"{root}/chat/completions does not exist" in info.value.message
    assert info.value.hint == (
        f"OpenAI-compatible servers usually serve the API under /v1: try {root}/v1"
    )


async def test_retries_are_reported_to_the_listener_before_each_wait(oai, fast):
    oai.push_error(429, "slow down", retry_after=0.05, request_id="req_1")
    oai.push_error(500, "boom")
    oai.push_text("ok")
    seen: list[RetryNotice] = []

    async def listen(notice: RetryNotice) -> None:
        seen.append(notice)

    token = retry_listener.set(listen)
    try:
        done = await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)
    finally:
        retry_listener.reset(token)
    assert done.text == "ok"
    assert [(n.attempt, n.status, n.error, n.request_id) for n in seen] == [
        (1, 429, "model_rate_limited", "req_1"),
        (2, 500, "model_unavailable", None),
    ]
    assert seen[0].delay_s == 0.05 and seen[0].retry_after_s == 0.05
    assert seen[1].retry_after_s is None and 0 < seen[1].delay_s <= fast.max_backoff


@pytest.mark.parametrize(
    "etype,expected",
    [
        ("overloaded_error", ProviderUnavailable),
        ("rate_limit_error", RateLimited),
        ("invalid_request_error", BadRequest),
    ],
)
async def test_openai_error_chunk_is_classified_by_its_type(oai, fast, etype, expected):
    oai.push_text("partial", stream_error={"type": etype, "message": "from the stream"})
    with pytest.raises(expected, match="from the stream"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)


async def test_anthropic_error_event_overloaded_is_retryable(ant, fast):
    ant.push_text("partial", stream_error={"type": "overloaded_error", "message": "Overloaded"})
    provider = AnthropicProvider(ant.base_url, "sk-ant-test-key-123456", settings=fast)
    with pytest.raises(ProviderUnavailable, match="Overloaded") as info:
        await provider.complete("claude-sonnet-4-5", HI)
    assert info.value.retryable


async def test_stream_without_usage_yields_no_usage_event(oai, ant, fast):
    oai.push_text("hello", no_usage=True)
    ant.push_text("hello", no_usage=True)
    o = OpenAIProvider(oai.base_url, settings=fast)
    a = AnthropicProvider(ant.base_url, "sk-ant-test-key-123456", settings=fast)
    for provider, model in ((o, "m"), (a, "claude-sonnet-4-5")):
        events = [ev async for ev in provider.stream(model, HI)]
        assert not any(isinstance(ev, Usage) for ev in events)
        assert (await collect(_again(events))).usage is None


async def _again(events):
    for ev in events:
        yield ev
