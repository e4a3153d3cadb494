"""Secrets stay home: encoded forms are masked, and a sealed process has no secret in its environ.

Sealing is tested in a real child Python process (it rewrites the process's own environment block,
which the test runner's must keep).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.parse

import pytest

from harness_ls import secrets
from harness_ls.store.encode import encode_masked
from harness_ls.store.events import Event

SECRET = "sk-forms-SECRET-a1b2c3d4e5f6g7h8i9j0+/="
ENVIRON = f"PATH=/bin\0OPENAI_API_KEY={SECRET}\0HOME=/root\0".encode()


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setattr(secrets, "_registered", {SECRET})


def _forms() -> dict[str, str]:
    out = {}
    for pad in range(3):
        blob = b"#" * pad + ENVIRON
        out[f"base64 offset {pad}"] = base64.b64encode(blob).decode()
        out[f"urlsafe offset {pad}"] = base64.urlsafe_b64encode(blob).decode()
        wrapped = out[f"base64 offset {pad}"]
        out[f"base64 wrapped offset {pad}"] = "\n".join(
            wrapped[i : i + 76] for i in range(0, len(wrapped), 76)
        )
    out["hex"] = ENVIRON.hex()
    out["HEX"] = ENVIRON.hex().upper()
    out["xxd -p"] = subprocess.run(
        ["xxd", "-p"], input=ENVIRON, capture_output=True
    ).stdout.decode()
    out["od -An -tx1"] = subprocess.run(
        ["od", "-An", "-tx1"], input=ENVIRON, capture_output=True
    ).stdout.decode()
    out["url"] = urllib.parse.quote(SECRET, safe="")
    out["url plus"] = urllib.parse.quote_plus("key=" + SECRET)
    return out


def _decodes_to_secret(payload: str) -> bool:
    """Independent check that a form holds the secret: decode it every way we know."""
    squeezed = "".join(payload.split())
    if SECRET in urllib.parse.unquote_plus(squeezed):
        return True
    for dec in (base64.b64decode, base64.urlsafe_b64decode, bytes.fromhex):
        try:
            if SECRET.encode() in dec(squeezed):
                return True
        except ValueError:
            pass
    return False


def _leaks(text: str) -> bool:
    """The secret, or any encoded form of it, still readable once whitespace is ignored."""
    squeezed = "".join(text.split())
    return any(f in squeezed for f in (SECRET, *secrets.encoded_forms(SECRET)))


@pytest.mark.parametrize("form", list(_forms()))
def test_every_encoded_form_is_masked(form: str) -> None:
    assert _decodes_to_secret(_forms()[form]), "the test input must hold the secret"
    text = f"output:\n{_forms()[form]}\ndone"
    assert _leaks(text)
    masked = secrets.mask_secrets(text)
    assert secrets.MASK in masked and not _leaks(masked), masked
    assert masked.startswith("output:") and masked.endswith("done")
    assert secrets.contains_secret(json.dumps({"output": text}))


@pytest.mark.parametrize("form", ["base64 offset 1", "xxd -p", "url"])
def test_event_lines_are_masked_in_every_form(form: str) -> None:
    ev = Event(seq=1, id="ev_1", ts="2026-01-01T00:00:00Z", type="log", run_id="r1",
               data={"output": _forms()[form], "n": 1})  # fmt: skip
    line = encode_masked(ev)
    assert not _leaks(json.loads(line)["data"]["output"])


def test_ordinary_text_is_untouched() -> None:
    text = "exit code 0\n" + base64.b64encode(b"hello world, nothing secret here").decode()
    assert secrets.mask_secrets(text) == text
    assert not secrets.contains_secret(json.dumps({"o": text}))


_SEALED_CHILD = """
import os, subprocess, sys
from harness_ls import secrets
moved = secrets.seal_environ()
own = open("/proc/self/environ", "rb").read()
child = subprocess.run(["sh", "-c", "cat /proc/$PPID/environ"], capture_output=True).stdout
print(sorted(moved), secrets.getenv("OPENAI_API_KEY"), "OPENAI_API_KEY" in os.environ,
      b"sk-sealed" in own or b"tok-sealed" in own, b"sk-sealed" in child, b"KEEP=1" in own,
      secrets.mask_secrets("k=sk-sealed-1234567890abcdef"))
"""


def test_seal_environ_leaves_nothing_in_proc_environ(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "KEEP": "1", "OPENAI_API_KEY": "sk-sealed-1234567890abcdef",
           "HARNESS_AUTH_TOKEN": "tok-sealed-1234567890"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", _SEALED_CHILD], env=env, capture_output=True,
                         text=True, timeout=30, cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == (
        "['HARNESS_AUTH_TOKEN', 'OPENAI_API_KEY'] sk-sealed-1234567890abcdef False False False "
        "True k=****"
    )
