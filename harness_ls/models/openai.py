"""OpenAI-compatible Chat Completions over httpx (OpenAI, Ollama, vLLM, llama.cpp, LM Studio)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from .errors import BadRequest
from .http import sse_events
from .http_errors import stream_error
from .normalize import data_url, file_as_text, finish_reason, is_text_file, parse_tool_call
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

OPENAI_URL = "https://api.openai.com/v1"
_PASSTHROUGH = ("temperature", "top_p", "stop", "seed", "reasoning_effort", "parallel_tool_calls")
_AUDIO_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}


_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def part_problem(part: ContentPart) -> str | None:
    """Why Chat Completions cannot take this part (None: it can), naming what it accepts."""
    mime = (part.mime or "").lower()
    if part.type == "image" and mime not in _IMAGE_MIMES:
        return f"image type {mime or '?'} is not accepted; send PNG, JPEG, GIF or WebP"
    if part.type == "audio" and mime not in _AUDIO_FORMATS:
        return f"audio type {mime or '?'} is not accepted; send WAV or MP3 audio"
    if part.type == "file" and not is_text_file(part) and mime != "application/pdf":
        return f"files of type {mime or '?'} are not accepted; send text, PDF or images"
    return None


def _part(part: ContentPart, provider: str) -> dict[str, Any]:
    if part.type == "text":
        return {"type": "text", "text": part.text or ""}
    if problem := part_problem(part):
        what, _, fix = problem.partition("; ")
        raise BadRequest(f"{provider}: {what}", hint=fix or None)
    if part.type == "image":
        return {"type": "image_url", "image_url": {"url": data_url(part)}}
    if part.type == "audio":
        fmt = _AUDIO_FORMATS[(part.mime or "").lower()]
        return {"type": "input_audio", "input_audio": {"data": part.data_b64 or "", "format": fmt}}
    if is_text_file(part):
        return {"type": "text", "text": file_as_text(part)}
    return {"type": "file", "file": {"filename": part.name or "file", "file_data": data_url(part)}}


def to_wire_message(msg: Message, provider: str = "openai") -> dict[str, Any]:
    out: dict[str, Any] = {"role": msg.role}
    if isinstance(msg.content, str) or msg.role in ("system", "tool"):
        out["content"] = msg.text() if not isinstance(msg.content, str) else msg.content
    else:
        parts = [_part(p, provider) for p in msg.content]
        # plain strings are the most portable form for text-only messages
        only_text = all(p["type"] == "text" for p in parts)
        out["content"] = "\n".join(p["text"] for p in parts) if only_text else parts
    if msg.role == "assistant" and msg.tool_calls:
        out["content"] = out["content"] or None
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.raw_arguments or json.dumps(c.arguments),
                },
            }
            for c in msg.tool_calls
        ]
    if msg.role == "tool":
        out["tool_call_id"] = msg.tool_call_id
    if msg.name and msg.role == "user":
        out["name"] = msg.name
    return out


def to_wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


class _StreamState:
    """Accumulates Chat Completions chunks into normalized events."""

    def __init__(self, provider: str, model: str = "") -> None:
        self.provider = provider
        self.model = model
        self.calls: dict[int, list[Any]] = {}  # index -> [id, name, [fragments]]
        self.usage: Usage | None = None
        self.finish: str | None = None

    def feed(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        if chunk.get("error"):
            raise stream_error(chunk, provider=self.provider, model=self.model)
        if u := chunk.get("usage"):
            self.usage = Usage(
                input_tokens=u.get("prompt_tokens") or 0,
                output_tokens=u.get("completion_tokens") or 0,
            )
        out: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if text := delta.get("content"):
                out.append(TextDelta(text=text))
            for tc in delta.get("tool_calls") or ():
                slot = self.calls.setdefault(tc.get("index", len(self.calls)), [None, "", []])
                slot[0] = tc.get("id") or slot[0]
                fn = tc.get("function") or {}
                if fn.get("name") and not slot[1]:
                    slot[1] = fn["name"]
                if (args := fn.get("arguments")) is not None:
                    slot[2].append(args if isinstance(args, str) else json.dumps(args))
            if fr := choice.get("finish_reason"):
                self.finish = fr
        return out

    def finish_events(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for n, (idx, (cid, name, frags)) in enumerate(sorted(self.calls.items())):
            call = parse_tool_call(self.provider, cid, name, "".join(frags), idx if idx >= 0 else n)
            out.append(ToolCallEvent(call=call))
        if self.usage:
            out.append(self.usage)
        out.append(Done(finish_reason=finish_reason(self.finish, bool(self.calls))))
        return out


class OpenAIProvider(HttpProvider, Streaming):
    """Chat Completions with streaming. A loopback base URL needs no API key."""

    default_name = "openai"
    default_url = OPENAI_URL
    default_key_env = "OPENAI_API_KEY"

    def build_body(
        self, model: str, messages: list[Message], tools: list[ToolSpec] | None, **opts: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": [to_wire_message(m, self.name) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            body["tools"] = [to_wire_tool(t) for t in tools]
            if choice := opts.get("tool_choice"):
                body["tool_choice"] = (
                    choice
                    if choice in ("auto", "none", "required")
                    else {"type": "function", "function": {"name": choice}}
                )
        if (max_tokens := opts.get("max_tokens")) is not None:
            key = "max_completion_tokens" if self.base_url == OPENAI_URL else "max_tokens"
            body[key] = max_tokens
        if opts.get("json"):
            body["response_format"] = {"type": "json_object"}
        body.update({k: opts[k] for k in _PASSTHROUGH if opts.get(k) is not None})
        body.update(opts.get("extra_body") or {})
        return body

    def part_problem(self, part: ContentPart) -> str | None:
        """Why this provider cannot take the part (None: it can); checked before sending."""
        return part_problem(part)

    def _headers(self, url: str) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", **self.extra_headers}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key.for_url(url, self.name)}"
        return headers

    async def _stream(self, body: dict[str, Any], model: str) -> AsyncIterator[StreamEvent]:
        try:
            async for ev in self._once(body, model):
                yield ev
        except BadRequest as exc:
            # a few older servers reject stream_options; they get one retry without it
            if "stream_options" not in exc.message or "stream_options" not in body:
                raise
            del body["stream_options"]
            async for ev in self._once(body, model):
                yield ev

    async def _once(self, body: dict[str, Any], model: str) -> AsyncIterator[StreamEvent]:
        url = f"{self.base_url}/chat/completions"
        async with self._open(url, body, model) as resp:
            state = _StreamState(self.name, model)
            ctype = resp.headers.get("content-type", "")
            if "event-stream" not in ctype and "json" in ctype:
                # a server that ignores "stream": true answers with one JSON document
                doc = self._json(await resp.aread())
                for ev in state.feed(doc):
                    yield ev
                state.finish = state.finish or "stop"
            else:
                done = False
                async for _event, data in sse_events(resp, self.name):
                    if data.strip() == "[DONE]":
                        done = True
                        break
                    for ev in state.feed(self._json(data)):
                        yield ev
                if not done and state.finish is None:
                    raise self._cut()
            final = state.finish_events()
        # the response is closed (its connection back in the pool) before Done is seen
        for ev in final:
            yield ev
