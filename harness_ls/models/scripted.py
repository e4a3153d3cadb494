"""Deterministic providers: `scripted` replays canned responses, `offline` refuses politely.

Script format (JSON file or a list given in code)::

    {"responses": [
        {"text": "I'll create the file."},
        {"text": ["chunked ", "text"], "tool_calls": [{"name": "write_file",
                                                       "arguments": {"path": "a.txt", "content": "hi"}}]},
        {"error": {"code": "model_rate_limited", "message": "slow down"}},
        {"text": "done", "usage": {"input_tokens": 10, "output_tokens": 2}, "delay": 0.01}
    ]}

Each stream/complete call consumes the next response; `resolve("scripted:<path>")` shares one
provider per file in a process, so the position survives re-resolving (sessions resolve every
turn). Keys the fake HTTP servers understand
(status, retry_after, raw, cut_after, ...) are ignored here, so one file can drive both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import harness_ls.models.errors as E

from .errors import ModelConfigError, ModelNotConfigured, ProviderError, ScriptExhausted
from .types import (
    Completion,
    Done,
    Message,
    StreamEvent,
    Streaming,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    Usage,
)


class ScriptedToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptedResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str | list[str] = ""
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    usage: dict[str, int] | None = None
    finish_reason: str | None = None
    error: str | dict[str, str] | None = None
    delay: float = 0.0  # seconds before each chunk (to exercise cancellation)


_ERRORS: dict[str, type[ProviderError]] = {
    cls.code: cls
    for cls in vars(E).values()
    if isinstance(cls, type) and issubclass(cls, ProviderError)
}


def load_script(source: Path | list[dict[str, Any]] | dict[str, Any]) -> list[ScriptedResponse]:
    """Parse a script file or in-memory script; errors name the file and response index."""
    where = str(source) if isinstance(source, Path) else "script"
    doc: Any = source
    if isinstance(source, Path):
        try:
            doc = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelConfigError(
                f"scripted model: no such script file {source}",
                hint='write a JSON file like {"responses": [{"text": "hi"}]}',
            ) from None
        except (OSError, ValueError) as exc:
            raise ModelConfigError(f"scripted model: cannot read {source}: {exc}") from None
    items = doc.get("responses") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ModelConfigError(f'{where}: expected {{"responses": [...]}} or a list of responses')
    out: list[ScriptedResponse] = []
    for n, item in enumerate(items, 1):
        try:
            out.append(ScriptedResponse.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise ModelConfigError(f"{where}: response {n}: {loc}: {first['msg']}") from None
    return out


class ScriptedProvider(Streaming):
    """Replays responses in order; `calls` records what each call was given."""

    name = "scripted"

    def __init__(self, script: Path | list[dict[str, Any]] | dict[str, Any]) -> None:
        self.source = str(script) if isinstance(script, Path) else "script"
        self.responses = load_script(script)
        self.position = 0
        self.calls: list[dict[str, Any]] = []

    @property
    def remaining(self) -> int:
        return len(self.responses) - self.position

    async def stream(
        self,
        model: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        **opts: Any,
    ) -> AsyncIterator[StreamEvent]:
        self.calls.append(
            {"model": model, "messages": messages, "tools": tools or [], "opts": opts}
        )
        if self.position >= len(self.responses):
            raise ScriptExhausted(
                f"scripted model: all {len(self.responses)} responses of {self.source} are used up",
                hint="add more responses to the script",
            )
        resp = self.responses[self.position]
        self.position += 1
        if resp.error is not None:
            err = resp.error if isinstance(resp.error, dict) else {"message": resp.error}
            raise _ERRORS.get(err.get("code", ""), ProviderError)(
                err.get("message", "scripted error"), hint=err.get("hint")
            )
        chunks = [resp.text] if isinstance(resp.text, str) else resp.text
        for chunk in chunks:
            if resp.delay:
                await asyncio.sleep(resp.delay)
            if chunk:
                yield TextDelta(text=chunk)
        for i, tc in enumerate(resp.tool_calls):
            raw = json.dumps(tc.arguments)
            call_id = tc.id or f"call_{self.position}_{i + 1}"
            yield ToolCallEvent(
                call=ToolCall(id=call_id, name=tc.name, arguments=tc.arguments, raw_arguments=raw)
            )
        text_len = sum(len(c) for c in chunks)
        usage = resp.usage or {
            "input_tokens": sum(len(m.text()) for m in messages) // 4,
            "output_tokens": text_len // 4,
        }
        yield Usage(**usage)
        yield Done(
            finish_reason=resp.finish_reason or ("tool_calls" if resp.tool_calls else "stop")
        )


_shared: dict[Path, tuple[tuple[int, int], ScriptedProvider]] = {}


def shared_script(path: Path) -> ScriptedProvider:
    """One provider per script file per process, so a session that resolves its model every
    turn walks through the script instead of restarting it. Editing the file starts over."""
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        return ScriptedProvider(path)  # raises the clear "no such script file" error
    cached = _shared.get(path)
    if cached is None or cached[0] != stamp:
        cached = _shared[path] = (stamp, ScriptedProvider(path))
    return cached[1]


OFFLINE_HINT = (
    "set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY (environment or .env.local), or point "
    "OPENAI_BASE_URL / OLLAMA_HOST at a local server and set HARNESS_MODEL; see docs/models.md"
)


class OfflineProvider:
    """Stands in when no model is configured: every call explains how to configure one."""

    name = "offline"
    is_offline = True

    def __init__(self, reason: str = "no API key or local model server was found") -> None:
        self.reason = reason

    def error(self) -> ModelNotConfigured:
        return ModelNotConfigured(f"no model is configured ({self.reason})", hint=OFFLINE_HINT)

    async def stream(
        self,
        model: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        **opts: Any,
    ) -> AsyncIterator[StreamEvent]:
        raise self.error()
        yield  # pragma: no cover - makes this an async generator

    async def complete(
        self,
        model: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        **opts: Any,
    ) -> Completion:
        raise self.error()
