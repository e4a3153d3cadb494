"""One model turn as the event log sees it: streamed text (`message.delta`), the complete
`message`, `model.usage` (null tokens when the server reported none), and retries recorded as
`model.retry` — including a turn retried when the answer broke off mid-stream, whose partial text
is marked `message.discarded` and whose tool calls never reach a tool. Split from loop.py, which
gates and runs the tool calls a turn returns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from harness_ls.models import Message, ToolCall
    from harness_ls.store import EventStream

DELTA_FLUSH_CHARS = 64
DELTA_FLUSH_SECONDS = 0.05


@dataclass
class Usage:
    """Token totals; `unreported` counts model calls whose server reported no usage, so a
    total can say "at least N" (some unreported) or "unknown" (none reported) instead of 0."""

    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    unreported: int = 0

    @classmethod
    def of_call(cls, reported: Any) -> Usage:
        """One model call's usage; `reported` is the provider's Usage event or None."""
        if reported is None:
            return cls(model_calls=1, unreported=1)
        return cls(reported.input_tokens, reported.output_tokens, 1)

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.model_calls += other.model_calls
        self.unreported += other.unreported

    def as_dict(self) -> dict[str, Any]:
        known = self.model_calls == 0 or self.unreported < self.model_calls
        out: dict[str, Any] = {
            "input_tokens": self.input_tokens if known else None,
            "output_tokens": self.output_tokens if known else None,
            "model_calls": self.model_calls,
        }
        if self.unreported:
            out["unreported_calls"] = self.unreported
        return out


class TurnContext(Protocol):
    """What a turn needs of its caller (loop.LoopContext provides it): typed here, not
    imported, so turn.py stays below loop.py."""

    provider: Any
    model: str
    model_info: Any
    stream: Any
    step_id: str | None
    usage: Usage


async def model_turn(
    ctx: TurnContext, messages: list[Message], specs: list[Any]
) -> tuple[str, list[ToolCall]]:
    """One model call, retried when the answer breaks off mid-stream (overload, a cut
    connection): the partial answer is marked discarded and nothing of it reaches a tool.

    Retries before the stream starts happen in the provider, mid-stream ones here; both draw on
    one `RetryBudget` (HARNESS_MODEL_RETRIES for the whole call, never nested) and are recorded
    as `model.retry` events as they happen, so every surface can say "retrying (2/4) after 429".
    """
    from harness_ls.models import ProviderError
    from harness_ls.models.http import HttpSettings, RetryBudget, retry_budget, wait_to_retry

    settings = getattr(ctx.provider, "settings", None) or HttpSettings.from_env()
    budget = RetryBudget(settings.max_retries)  # one allowance for the whole call
    token = retry_budget.set(budget)
    try:
        with retries_recorded(ctx.stream, ctx.step_id):
            while True:
                partial: list[str] = []
                try:
                    return await _stream_turn(ctx, messages, specs, partial)
                except ProviderError as exc:
                    if partial:
                        await ctx.stream.append(
                            "message.discarded",
                            {"chars": sum(map(len, partial)), "reason": exc.one_line()},
                            step_id=ctx.step_id,
                        )
                    if getattr(exc, "before_stream", False) or not exc.retryable:
                        raise  # the request layer already spent the budget (or it cannot pass)
                    if not budget.left:
                        if budget.used:
                            raise type(exc)(
                                f"{exc.message} (after {budget.used + 1} attempts)", hint=exc.hint
                            ) from None
                        raise
                    await wait_to_retry(settings, budget.used, exc, phase="stream")
                    budget.used += 1
    finally:
        retry_budget.reset(token)


@contextmanager
def retries_recorded(stream: EventStream, step_id: str | None) -> Iterator[None]:
    """Record retries (429, 5xx, a refused connection, a stream cut mid-answer) as
    `model.retry` events while the block runs."""
    from harness_ls.models.http import RetryNotice, retry_listener

    async def record(notice: RetryNotice) -> None:
        await stream.append("model.retry", notice.as_dict(), step_id=step_id)

    token = retry_listener.set(record)
    try:
        yield
    finally:
        retry_listener.reset(token)


async def _stream_turn(
    ctx: TurnContext, messages: list[Message], specs: list[Any], partial: list[str]
) -> tuple[str, list[ToolCall]]:
    """One streamed model call: `message.delta` events as text arrives, then `message` + usage.

    Tool calls are collected and returned only once the stream ended cleanly.
    """
    from harness_ls.models import Done, TextDelta, ToolCallEvent
    from harness_ls.models import Usage as ModelUsage

    text = partial
    pending: list[str] = []
    calls: list[ToolCall] = []
    usage: ModelUsage | None = None
    last_flush = time.monotonic()
    started = time.monotonic()
    async for ev in ctx.provider.stream(ctx.model, messages, tools=specs or None):
        if isinstance(ev, TextDelta):
            text.append(ev.text)
            pending.append(ev.text)
            now = time.monotonic()
            if (
                sum(map(len, pending)) >= DELTA_FLUSH_CHARS
                or now - last_flush >= DELTA_FLUSH_SECONDS
            ):
                await ctx.stream.append(
                    "message.delta", {"text": "".join(pending)}, step_id=ctx.step_id
                )
                pending.clear()
                last_flush = now
        elif isinstance(ev, ToolCallEvent):
            calls.append(ev.call)
        elif isinstance(ev, ModelUsage):
            usage = ev
        elif isinstance(ev, Done):
            break
    if pending:
        await ctx.stream.append("message.delta", {"text": "".join(pending)}, step_id=ctx.step_id)
    full = "".join(text)
    if full or calls:
        data: dict[str, Any] = {"role": "assistant", "content": full}
        if calls:  # kept so a session's history can be rebuilt from the log
            data["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls
            ]
        await ctx.stream.append("message", data, step_id=ctx.step_id)
    ctx.usage.add(Usage.of_call(usage))
    await ctx.stream.append("model.usage", usage_data(ctx, usage, started), step_id=ctx.step_id)
    return full, calls


def usage_data(ctx: TurnContext, usage: Any, started: float) -> dict[str, Any]:
    """The `model.usage` event: tokens are null (not 0) when the server reported none."""
    data: dict[str, Any] = {
        "model": ctx.model,
        "input_tokens": None if usage is None else usage.input_tokens,
        "output_tokens": None if usage is None else usage.output_tokens,
        "reported": usage is not None,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "cost": None
        if usage is None
        else _cost(ctx.model_info, usage.input_tokens, usage.output_tokens),
    }
    return data


def _cost(info: Any, input_tokens: int, output_tokens: int) -> float | None:
    try:
        return info.cost(input_tokens, output_tokens) if info is not None else None
    except Exception:  # noqa: BLE001 - a price is nice to have
        return None
