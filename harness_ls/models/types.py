"""Provider-neutral message, tool and stream types.

Every provider maps these to its wire format and back, so the runtime never sees a
provider's JSON. Streams yield `TextDelta`, `ToolCallEvent`, `Usage` and finally `Done`.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class ContentPart(BaseModel):
    """One part of a message: text, or base64 data of an image, audio clip or file."""

    type: Literal["text", "image", "audio", "file"]
    text: str | None = None
    data_b64: str | None = None
    mime: str | None = None
    name: str | None = None

    @classmethod
    def from_text(cls, text: str) -> ContentPart:
        return cls(type="text", text=text)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        mime: str,
        *,
        name: str | None = None,
    ) -> ContentPart:
        """Build an image/audio/file part from raw bytes; the kind follows the MIME type."""
        kind: Literal["image", "audio", "file"] = (
            "image"
            if mime.startswith("image/")
            else "audio"
            if mime.startswith("audio/")
            else "file"
        )
        return cls(type=kind, data_b64=base64.b64encode(data).decode("ascii"), mime=mime, name=name)

    @classmethod
    def from_path(cls, path: Path, mime: str | None = None) -> ContentPart:
        import mimetypes

        mime = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls.from_bytes(path.read_bytes(), mime, name=path.name)


class ToolCall(BaseModel):
    """A tool invocation requested by the model; `raw_arguments` is the JSON text it sent."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str = ""


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[ContentPart] = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    def text(self) -> str:
        """The text of the message (text parts joined), ignoring binary parts."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content if p.type == "text")

    def parts(self) -> list[ContentPart]:
        if isinstance(self.content, str):
            return [ContentPart.from_text(self.content)] if self.content else []
        return list(self.content)


class ToolSpec(BaseModel):
    """A tool offered to the model; `parameters` is a JSON Schema object."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    @classmethod
    def from_model(cls, name: str, description: str, args: type[BaseModel]) -> ToolSpec:
        return cls(name=name, description=description, parameters=args.model_json_schema())


# --- streamed events -------------------------------------------------------------------------


class TextDelta(BaseModel):
    type: Literal["text"] = "text"
    text: str


class ToolCallEvent(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    call: ToolCall


class Usage(BaseModel):
    type: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0


class Done(BaseModel):
    """Last event of a stream. finish_reason: stop | tool_calls | length | content_filter | ..."""

    type: Literal["done"] = "done"
    finish_reason: str = "stop"


StreamEvent = TextDelta | ToolCallEvent | Usage | Done


class Completion(BaseModel):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str = "stop"

    def as_message(self) -> Message:
        """The assistant message to append to the history after this completion."""
        return Message(role="assistant", content=self.text, tool_calls=self.tool_calls)


@runtime_checkable
class Provider(Protocol):
    name: str

    def stream(
        self,
        model: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        **opts: Any,
    ) -> AsyncIterator[StreamEvent]: ...

    async def complete(
        self,
        model: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        **opts: Any,
    ) -> Completion: ...


async def collect(events: AsyncIterator[StreamEvent]) -> Completion:
    """Drain a stream into a Completion (what every provider's `complete` does)."""
    text: list[str] = []
    calls: list[ToolCall] = []
    usage: Usage | None = None
    finish = "stop"
    async for ev in events:
        if isinstance(ev, TextDelta):
            text.append(ev.text)
        elif isinstance(ev, ToolCallEvent):
            calls.append(ev.call)
        elif isinstance(ev, Usage):
            usage = ev
        elif isinstance(ev, Done):
            finish = ev.finish_reason
    return Completion(text="".join(text), tool_calls=calls, usage=usage, finish_reason=finish)


class Streaming:
    """Mixin: `complete()` is `stream()` collected, for every provider that streams."""

    async def complete(
        self,
        model: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        **opts: Any,
    ) -> Completion:
        return await collect(self.stream(model, messages, tools, **opts))  # type: ignore[attr-defined]
