"""Anthropic Messages API over httpx, streamed (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .errors import BadRequest
from .http import sse_events
from .http_errors import stream_error
from .normalize import file_as_text, finish_reason, is_text_file, parse_tool_call
from .registry import BUILTIN_MODELS
from .types import (
    ContentPart,
    Done,
    Message,
    StreamEvent,
    Streaming,
    TextDelta,
    ToolCallEvent,
    ToolSpec,
    Usage,
)
from .wire import HttpProvider

ANTHROPIC_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_IMAGE_MIMES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_MAX_TOKENS = {m.id: min(m.max_output, 16_384) for m in BUILTIN_MODELS if m.provider == "anthropic"}


def part_problem(part: ContentPart) -> str | None:
    """Why the Messages API cannot take this part (None: it can), naming what it accepts."""
    if part.type == "image" and part.mime not in _IMAGE_MIMES:
        return f"image type {part.mime or '?'} is not accepted; send PNG, JPEG, GIF or WebP"
    if part.type == "audio":
        return "Anthropic models cannot take audio input; pick an audio-capable model (e.g. openai:gpt-4o-audio-preview)"
    if part.type == "file" and part.mime != "application/pdf" and not is_text_file(part):
        return f"files of type {part.mime or '?'} are not accepted; send text, PDF or images"
    return None


def _block(part: ContentPart, provider: str) -> dict[str, Any] | None:
    if part.type == "text":
        return {"type": "text", "text": part.text} if part.text else None
    if problem := part_problem(part):
        what, _, fix = problem.partition("; ")
        raise BadRequest(f"{provider}: {what}", hint=fix or None)
    source = {"type": "base64", "media_type": part.mime or "", "data": part.data_b64 or ""}
    if part.type == "image":
        return {"type": "image", "source": source}
    if part.mime == "application/pdf":
        return {"type": "document", "source": source}
    return {"type": "text", "text": file_as_text(part)}


def to_wire(
    messages: list[Message], provider: str = "anthropic"
) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages) with tool results as user turns and same-role turns merged."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "system":
            system.append(msg.text())
            continue
        blocks: list[dict[str, Any]]
        if msg.role == "tool":
            role = "user"
            blocks = [
                {"type": "tool_result", "tool_use_id": msg.tool_call_id, "content": msg.text()}
            ]
        else:
            role = msg.role
            blocks = [b for p in msg.parts() if (b := _block(p, provider)) is not None]
            for call in msg.tool_calls if msg.role == "assistant" else ():
                blocks.append(
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                )
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return "\n\n".join(s for s in system if s), out


_EPHEMERAL = {"type": "ephemeral"}


def _mark_cache_points(body: dict[str, Any]) -> None:
    """Prompt caching: the tools+system prefix and the conversation so far are cached.

    An agent resends the whole history every turn; cached input costs a tenth. Prompts under
    the provider's minimum (about 1024 tokens) are simply not cached.
    """
    if body.get("tools"):
        body["tools"][-1]["cache_control"] = _EPHEMERAL
    elif isinstance(body.get("system"), list):
        body["system"][-1]["cache_control"] = _EPHEMERAL
    for msg in reversed(body["messages"]):
        if msg["role"] == "user" and msg["content"]:
            msg["content"][-1]["cache_control"] = _EPHEMERAL
            break


class _StreamState:
    def __init__(self, provider: str, model: str = "") -> None:
        self.provider = provider
        self.model = model
        self.usage_seen = False  # a server that reports no usage gets none recorded, not zeros
        self.blocks: dict[int, list[Any]] = {}  # index -> [id, name, [json fragments]]
        self.input_tokens = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None
        self.stopped = False
        self.n_calls = 0

    def feed(self, ev: dict[str, Any]) -> list[StreamEvent]:
        kind = ev.get("type")
        if kind == "content_block_delta":
            delta = ev.get("delta") or {}
            if delta.get("type") == "text_delta":
                return [TextDelta(text=delta.get("text", ""))] if delta.get("text") else []
            if delta.get("type") == "input_json_delta" and ev.get("index") in self.blocks:
                self.blocks[ev["index"]][2].append(delta.get("partial_json", ""))
            return []
        if kind == "content_block_start":
            block = ev.get("content_block") or {}
            if block.get("type") == "tool_use":
                self.blocks[ev.get("index", len(self.blocks))] = [
                    block.get("id"),
                    block.get("name"),
                    [],
                ]
            elif block.get("type") == "text" and block.get("text"):
                return [TextDelta(text=block["text"])]
            return []
        if kind == "content_block_stop":
            slot = self.blocks.pop(ev.get("index", -1), None)
            if slot is None:
                return []
            self.n_calls += 1
            call = parse_tool_call(self.provider, slot[0], slot[1], "".join(slot[2]), self.n_calls)
            return [ToolCallEvent(call=call)]
        if kind == "message_start":
            usage = (ev.get("message") or {}).get("usage") or {}
            self.usage_seen = self.usage_seen or bool(usage)
            self.input_tokens = sum(
                usage.get(k) or 0
                for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
            self.output_tokens = usage.get("output_tokens") or 0
        elif kind == "message_delta":
            self.stop_reason = (ev.get("delta") or {}).get("stop_reason") or self.stop_reason
            self.usage_seen = self.usage_seen or bool(ev.get("usage"))
            self.output_tokens = (ev.get("usage") or {}).get("output_tokens", self.output_tokens)
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            raise stream_error(ev, provider=self.provider, model=self.model)
        return []

    def finish_events(self) -> list[StreamEvent]:
        done = Done(finish_reason=finish_reason(self.stop_reason, self.n_calls > 0))
        if not self.usage_seen:
            return [done]
        return [Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens), done]


class AnthropicProvider(HttpProvider, Streaming):
    default_name = "anthropic"
    default_url = ANTHROPIC_URL
    default_key_env = "ANTHROPIC_API_KEY"

    @staticmethod
    def normalize_url(url: str) -> str:
        return url.rstrip("/").removesuffix("/v1")

    def build_body(
        self, model: str, messages: list[Message], tools: list[ToolSpec] | None, **opts: Any
    ) -> dict[str, Any]:
        system, wire = to_wire(messages, self.name)
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": opts.get("max_tokens") or _MAX_TOKENS.get(model, 8_192),
            "messages": wire,
            "stream": True,
        }
        cache = opts.get("cache", True)
        if system:
            body["system"] = [{"type": "text", "text": system}] if cache else system
        if tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
        if cache:
            _mark_cache_points(body)
            if choice := opts.get("tool_choice"):
                body["tool_choice"] = (
                    {"type": {"required": "any"}.get(choice, choice)}
                    if choice in ("auto", "none", "required", "any")
                    else {"type": "tool", "name": choice}
                )
        for key in ("temperature", "top_p"):
            if opts.get(key) is not None:
                body[key] = opts[key]
        if opts.get("stop"):
            body["stop_sequences"] = list(opts["stop"])
        body.update(opts.get("extra_body") or {})
        return body

    def part_problem(self, part: ContentPart) -> str | None:
        """Why this provider cannot take the part (None: it can); checked before sending."""
        return part_problem(part)

    def _headers(self, url: str) -> dict[str, str]:
        headers = {
            "anthropic-version": API_VERSION,
            "Accept": "text/event-stream",
            **self.extra_headers,
        }
        if self.key is not None:
            headers["x-api-key"] = self.key.for_url(url, self.name)
        return headers

    async def _stream(self, body: dict[str, Any], model: str) -> AsyncIterator[StreamEvent]:
        url = f"{self.base_url}/v1/messages"
        async with self._open(url, body, model) as resp:
            state = _StreamState(self.name, model)
            async for _event, data in sse_events(resp, self.name):
                for ev in state.feed(self._json(data)):
                    yield ev
                if state.stopped:
                    break
            if not state.stopped:
                raise self._cut()
            final = state.finish_events()
        # the response is closed (its connection back in the pool) before Done is seen
        for ev in final:
            yield ev
