"""Small conversions both HTTP providers share (tool arguments, text files, finish reasons)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import InvalidToolArguments, MalformedResponse, one_line
from .types import ContentPart, ToolCall

_TEXT_MIMES = ("application/json", "application/xml", "application/yaml", "application/toml",
               "application/x-sh", "application/javascript", "application/sql")  # fmt: skip


def parse_tool_call(provider: str, id: str | None, name: str | None, raw: str, n: int) -> ToolCall:
    """A ToolCall from the model's JSON argument text; bad JSON is a typed one-line error."""
    if not name:
        raise MalformedResponse(f"{provider}: a tool call came without a tool name")
    text = raw.strip() or "{}"
    try:
        args: Any = json.loads(text)
    except ValueError as exc:
        raise InvalidToolArguments(
            f"{provider}: tool call '{name}' has invalid JSON arguments ({exc.msg} at char {exc.pos}): {one_line(text, 80)}",
            hint="the model produced malformed arguments; retry the step",
            details={"tool": name, "raw_arguments": text[:2000]},
        ) from None
    if not isinstance(args, dict):
        raise InvalidToolArguments(
            f"{provider}: tool call '{name}' arguments must be a JSON object, got {type(args).__name__}",
            details={"tool": name, "raw_arguments": text[:2000]},
        )
    return ToolCall(id=id or f"call_{n}", name=name, arguments=args, raw_arguments=text)


def is_text_file(part: ContentPart) -> bool:
    mime = (part.mime or "").split(";")[0].strip()
    return mime.startswith("text/") or mime in _TEXT_MIMES or mime.endswith("+json")


def file_as_text(part: ContentPart) -> str:
    """A text-like file part inlined as text, which every model can read."""
    try:
        body = base64.b64decode(part.data_b64 or "", validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        body = ""
    return f'<file name="{part.name or "attachment"}" type="{part.mime}">\n{body}\n</file>'


def data_url(part: ContentPart) -> str:
    return f"data:{part.mime or 'application/octet-stream'};base64,{part.data_b64 or ''}"


FINISH = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_calls": "tool_calls",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
    "refusal": "content_filter",
}


def finish_reason(raw: str | None, has_tool_calls: bool) -> str:
    reason = FINISH.get(raw or "stop", raw or "stop")
    # Some local servers say "stop" even when they return tool calls.
    return "tool_calls" if has_tool_calls and reason == "stop" else reason
