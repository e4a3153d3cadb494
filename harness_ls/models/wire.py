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


class HttpProvider:
    """Base of the HTTP providers; subclasses set the auth header in `_headers`."""

    name: str
    base_url: str

    def _setup(
        self,
        name: str,
        base_url: str,
        api_key: str | BoundKey | None,
        key_env: str | None,
        settings: HttpSettings | None,
        headers: dict[str, str] | None,
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.key = bind(api_key, self.base_url, key_env)  # sent to its own origins only
        self.key_env = key_env
        self.settings = settings or HttpSettings.from_env()
        self.extra_headers = dict(headers or {})

    def _headers(self, url: str) -> dict[str, str]:
        raise NotImplementedError

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
