"""A provider key bound to the origins the user configured for it, checked on every request.

Config loading already keeps an untrusted workspace file from re-pointing a provider or naming
another key (models/registry.py); this is the second wall, at the request layer: a key carries
the set of origins (scheme, host, port) it may be sent to, computed from the user's own config
only, and a provider asked to send it anywhere else refuses before any byte leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from harness_ls.secrets import register_secret

from .errors import ModelAuthError

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """`https://API.openai.com/v1` -> `https://api.openai.com:443` ("" for what is not a URL)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return ""
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


@dataclass(frozen=True)
class BoundKey:
    """A credential and the only origins it may travel to."""

    value: str = field(repr=False)
    env: str | None  # the variable it came from, for messages (never the value)
    origins: frozenset[str]

    def __post_init__(self) -> None:
        register_secret(self.value)

    def for_url(self, url: str, provider: str) -> str:
        """The key, if `url` is one of its origins; else ModelAuthError, and nothing is sent."""
        where = origin(url)
        if where and where in self.origins:
            return self.value
        name = self.env or "the API key"
        allowed = ", ".join(sorted(self.origins)) or "no base URL of yours"
        raise ModelAuthError(
            f"{provider}: refusing to send {name} to {where or url!r}: that key is only sent to "
            f"the base URL you configured for it ({allowed})",
            hint="set the base URL in your environment or the data dir's models.toml, or trust "
            "the workspace's models.toml (`agentctl policy trust`) if you meant it",
        )


def bind(key: str | BoundKey | None, base_url: str, env: str | None) -> BoundKey | None:
    """A plain key handed to a provider directly is bound to that provider's base URL."""
    if key is None or isinstance(key, BoundKey):
        return key
    return BoundKey(key, env, frozenset({origin(base_url)}) - {""})
