"""What the HTTP providers (OpenAI-compatible, Anthropic) share: an origin-bound key, the HTTP
settings, extra headers, and one way to open a streaming request and say it was cut short.

Kept apart from the wire formats so each provider file holds only its own protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from .errors import StreamCut, json_object
from .http import HttpSettings, open_stream, pooled_client
from .keys import BoundKey, bind
from .types import Message, StreamEvent, ToolSpec


class _Default:
    """Marks a parameter left at the provider's default (None is a real value: no variable)."""


DEFAULT = _Default()


class HttpProvider:
    """Base of the HTTP providers; subclasses say their defaults, URL form and auth header."""

    default_name: str = ""
    default_url: str = ""
    default_key_env: str | None = None

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | BoundKey | None = None,
        *,
        name: str | None = None,
        key_env: str | None | _Default = DEFAULT,
        settings: HttpSettings | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """`key_env`: the variable the key came from (for hints), the provider's own by default."""
        key_env = self.default_key_env if isinstance(key_env, _Default) else key_env
        self.name = name or self.default_name
        self.base_url = self.normalize_url(base_url or self.default_url)
        self.key = bind(api_key, self.base_url, key_env)  # sent to its own origins only
        self.key_env = key_env
        self.settings = settings or HttpSettings.from_env()
        self.extra_headers = dict(headers or {})

    @staticmethod
    def normalize_url(url: str) -> str:
        return url.rstrip("/")

    def _headers(self, url: str) -> dict[str, str]:
        raise NotImplementedError

    def build_body(
        self, model: str, messages: list[Message], tools: list[ToolSpec] | None, **opts: Any
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _stream(self, body: dict[str, Any], model: str) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    async def stream(
        self,
        model: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        **opts: Any,
    ) -> AsyncIterator[StreamEvent]:
        """The provider's wire body for this call, streamed back as normalized events."""
        async for ev in self._stream(self.build_body(model, messages, tools, **opts), model):
            yield ev

    @asynccontextmanager
    async def _open(
        self, url: str, body: dict[str, Any], model: str
    ) -> AsyncIterator[httpx.Response]:
        """A streaming POST on the pooled client for this base URL (retries in open_stream)."""
        async with (
            pooled_client(self.base_url, self.settings) as client,
            open_stream(
                client,
                url,
                headers=self._headers(url),
                body=body,
                settings=self.settings,
                provider=self.name,
                model=model,
                key_env=self.key_env,
            ) as resp,
        ):
            yield resp

    def _cut(self) -> StreamCut:
        return StreamCut(
            f"{self.name}: the stream ended before the answer was complete",
            hint="the answer is incomplete; retry the step",
        )

    def _json(self, data: str | bytes) -> dict[str, Any]:
        return json_object(self.name, data)
