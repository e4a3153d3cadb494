"""Secret masking: the one place secrets get hidden before anything leaves the process.

Events (the store masks every line it writes), logs (`install_log_masking`), exports and error
messages pass through `mask_secrets`, which hides the values of secret-looking environment
variables, values registered with `register_secret`, and anything shaped like a provider key.
No dependencies, so every package (the store included) can use it.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

MASK = "****"

# Names whose values are secrets. HARNESS_AUTH_TOKEN is matched by the _TOKEN suffix.
_SECRET_NAME = re.compile(
    r"(_API_KEY|_APIKEY|_KEY|_TOKEN|_SECRET|_PASSWORD|_PASS|_CREDENTIALS?)$|^(API_KEY|TOKEN|SECRET)$",
    re.IGNORECASE,
)
# Key-shaped strings masked even when not in the environment (a key pasted into a message).
_KEY_SHAPES = re.compile(
    r"\b(sk-ant-[A-Za-z0-9_\-]{8,}|sk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,})"
    r"|(?<=Bearer )[A-Za-z0-9._\-]{12,}"
)
_MIN_SECRET_LEN = 8  # shorter values ("1", "true") would mask ordinary text

_registered: set[str] = set()
_names: tuple[tuple[object, ...], list[str]] = ((), [])  # (environ keys, secret names)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def register_secret(value: str | None) -> None:
    """Mask this value from now on (e.g. a key read from a file, an auth token)."""
    if value and len(value) >= 4:
        _registered.add(value)


def _secret_names() -> list[str]:
    """Secret-looking variable names, recomputed only when the set of variable names changes."""
    global _names
    # os.environ._data holds the encoded keys: a tuple of it is a cheap, exact fingerprint
    keys = tuple(getattr(os.environ, "_data", os.environ))
    if keys != _names[0]:
        _names = (keys, [k for k in os.environ if is_secret_name(k)])
    return _names[1]


def _secret_values() -> list[str]:
    env = os.environ
    values = {v for k in _secret_names() if len(v := env.get(k, "")) >= _MIN_SECRET_LEN}
    # longest first so a secret that contains another is masked whole
    return sorted(values | _registered, key=len, reverse=True)


def mask_secrets(text: str) -> str:
    """Replace every known secret value (and key-shaped token) in `text` with ****.

    Cheap when nothing matches (a substring test per secret), so it can run on every event.
    """
    if not text:
        return text
    for value in _secret_values():
        if value in text:
            text = text.replace(value, MASK)
    if "sk-" in text or "Bearer " in text:
        text = _KEY_SHAPES.sub(MASK, text)
    return text


class SecretMaskingFilter(logging.Filter):
    """A logging filter that masks secrets in every record (message and exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secrets(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach SecretMaskingFilter to the handlers of `logger` (default: root). Idempotent."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
            handler.addFilter(SecretMaskingFilter())


def secret_values() -> list[str]:
    """The values currently masked, longest first."""
    return _secret_values()


def mask_data(value: Any, secrets: list[str] | None = None) -> Any:
    """`value` (JSON-like: dicts, lists, strings) with every secret masked; unchanged objects
    are returned as they are."""
    secrets = _secret_values() if secrets is None else secrets
    if isinstance(value, str):
        out = value
        for s in secrets:
            if s in out:
                out = out.replace(s, MASK)
        if "sk-" in out or "Bearer " in out:
            out = _KEY_SHAPES.sub(MASK, out)
        return out
    if isinstance(value, dict):
        return {k: mask_data(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v, secrets) for v in value]
    return value


def contains_secret(text: str, secrets: list[str] | None = None) -> bool:
    """Cheap test (a substring search per secret) used on every event line."""
    secrets = _secret_values() if secrets is None else secrets
    if any(s in text for s in secrets):
        return True
    return ("sk-" in text or "Bearer " in text) and bool(_KEY_SHAPES.search(text))
