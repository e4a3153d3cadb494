"""Secret masking: the one place secrets get hidden before anything leaves the process.

Events (the store masks every line it writes), logs (`install_log_masking`), exports and error
messages pass through `mask_secrets`, which hides the values of secret-looking environment
variables, values registered with `register_secret`, and anything shaped like a provider key.
No dependencies, so every package (the store included) can use it.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
import urllib.parse
from typing import Any

MASK = "****"

# Names whose values are secrets: masked in output, scrubbed from children's environments and
# moved out of our own environment by `seal_environ`. HARNESS_AUTH_TOKEN matches _TOKEN.
_SECRET_NAME = re.compile(
    r"(_API_KEY|_APIKEY|_KEY|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_PASS|_PAT|_CREDENTIALS?|_AUTH|"
    r"_ACCESS_KEY_ID|_PRIVATE_KEY)$|SECRET|^(API_KEY|TOKEN)$|^HARNESS_AUTH",
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


_vault: dict[str, str] = {}  # secret variables moved out of os.environ by seal_environ()


def getenv(name: str, default: str | None = None) -> str | None:
    """os.environ.get that also sees the secrets `seal_environ` moved out of the environment."""
    value = os.environ.get(name)
    if value is None:
        value = _vault.get(name)
    return default if value is None else value


def sealed() -> bool:
    return bool(_vault)


def seal_environ() -> list[str]:
    """Move every secret-named variable out of os.environ (kept here, still masked) and wipe it
    from this process's /proc/<pid>/environ, so no child, sandboxed or not, can read it from us.
    Hosts call it at start-up, after loading .env files. Returns the names moved."""
    names = [k for k in os.environ if is_secret_name(k)]
    for key in names:
        value = os.environ.pop(key)
        _vault[key] = value
        if len(value) >= _MIN_SECRET_LEN:
            _registered.add(value)
    _wipe_proc_environ()
    return names


def _wipe_proc_environ() -> bool:
    """Zero the secret entries of the environment block the kernel shows as /proc/self/environ
    (unsetenv only drops libc's pointers to it). Best effort: False where /proc/self/mem is not
    writable."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read()
        fields = stat[stat.rindex(b")") + 2 :].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            block = mem.read(end - start)
            out, pos = bytearray(block), 0
            for entry in block.split(b"\0"):
                name = entry.split(b"=", 1)[0].decode("latin-1")
                if entry and is_secret_name(name):
                    out[pos : pos + len(entry)] = b"\0" * len(entry)
                pos += len(entry) + 1
            if out != block:
                mem.seek(start)
                mem.write(bytes(out))
    except (OSError, ValueError, IndexError):
        return False
    return True


@functools.lru_cache(maxsize=512)
def encoded_forms(value: str) -> tuple[str, ...]:
    """What a command could turn `value` into to sneak it out: hex (xxd -p, od), URL encoding,
    and base64 (std and urlsafe) at all three byte alignments, so the secret is found inside a
    larger blob such as `base64 -w0 /proc/$PPID/environ`. Only characters that depend on the
    secret's bytes alone are kept."""
    raw = value.encode()
    forms = {raw.hex(), raw.hex().upper(), urllib.parse.quote(value, safe=""),
             urllib.parse.quote_plus(value)}  # fmt: skip
    for k in range(3):
        first, last = -(-8 * k // 6), (8 * (k + len(raw)) - 6) // 6
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(enc(b"\0" * k + raw).decode()[first : last + 1])
    forms.discard(value)
    return tuple(f for f in forms if len(f) >= _MIN_SECRET_LEN)


def _squeeze(text: str) -> str:
    """`text` without whitespace (and JSON-escaped line breaks): wrapped encodings rejoin."""
    return "".join(text.replace("\\n", "").replace("\\r", "").split())


def _mask_wrapped(text: str, secrets: list[str]) -> str:
    """Mask secrets that appear only once whitespace is removed (`base64` or `xxd -p` wrap)."""
    keep = [i for i, c in enumerate(text) if not c.isspace()]
    squeezed = "".join(text[i] for i in keep)
    spans: list[tuple[int, int]] = []
    for s in secrets:
        at = squeezed.find(s)
        while at >= 0:
            spans.append((keep[at], keep[at + len(s) - 1] + 1))
            at = squeezed.find(s, at + len(s))
    if not spans:
        return text
    out, pos = [], 0
    for a, b in sorted(spans):
        if a < pos:  # overlaps the previous span
            a = pos
        if b <= pos:
            continue
        out += [text[pos:a], MASK]
        pos = b
    out.append(text[pos:])
    return "".join(out)


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
    values |= _registered
    for v in list(values):
        values.update(encoded_forms(v))
    # longest first so a secret that contains another is masked whole
    return sorted(values, key=len, reverse=True)


def mask_secrets(text: str) -> str:
    """Replace every known secret value (and key-shaped token) in `text` with ****.

    Cheap when nothing matches (a substring test per secret), so it can run on every event.
    """
    if not text:
        return text
    return _mask_str(text, _secret_values())


def _mask_str(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, MASK)
    if secrets and len(text) > 8:
        squeezed = _squeeze(text)
        if len(squeezed) != len(text) and any(s in squeezed for s in secrets):
            text = _mask_wrapped(text, secrets)
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
        return _mask_str(value, secrets)
    if isinstance(value, dict):
        return {k: mask_data(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v, secrets) for v in value]
    return value


def contains_secret(text: str, secrets: list[str] | None = None) -> bool:
    """Cheap test (a substring search per secret) used on every event line."""
    secrets = _secret_values() if secrets is None else secrets
    if secrets:
        # one search of the text without whitespace finds plain and wrapped forms alike;
        # bytes.translate is the fastest way to drop it
        squeezed = _squeeze_bytes(text)
        if any(s in squeezed for s in _as_bytes(tuple(secrets))):
            return True
    return ("sk-" in text or "Bearer " in text) and bool(_KEY_SHAPES.search(text))


def _squeeze_bytes(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass").replace(b"\\n", b"").replace(b"\\r", b"")
    return raw.translate(None, b" \t\n\r\x0b\x0c")


@functools.lru_cache(maxsize=8)
def _as_bytes(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(_squeeze_bytes(s) for s in secrets)
