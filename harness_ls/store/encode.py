"""Serializing events: the exact log line, and moving oversize data to an artifact."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness_ls.private import private_dir
from harness_ls.secrets import contains_secret, mask_data, secret_values
from harness_ls.store.events import Event
from harness_ls.store.meta import storage_error, write_atomic

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def encode_line(ev: Event) -> bytes:
    """The log line: keys in envelope order, absent ids omitted. Seq, ids and type are safe
    strings (checked ids, registered types); step/call ids and data are JSON-encoded."""
    enc = _ENCODER.encode
    parts = [f'{{"seq":{ev.seq},"id":"{ev.id}","ts":"{ev.ts}","type":"{ev.type}"']
    if ev.run_id is not None:
        parts.append(f',"run_id":"{ev.run_id}"')
    if ev.session_id is not None:
        parts.append(f',"session_id":"{ev.session_id}"')
    if ev.step_id is not None:
        parts.append(',"step_id":' + enc(ev.step_id))
    if ev.call_id is not None:
        parts.append(',"call_id":' + enc(ev.call_id))
    parts.append(',"data":' + enc(ev.data) + "}\n")
    text = "".join(parts)
    try:
        return text.encode()
    except UnicodeEncodeError:  # lone surrogates: keep them escaped
        return text.replace(enc(ev.data), _ASCII_ENCODER.encode(ev.data)).encode(
            "utf-8", "backslashreplace"
        )


def encode_masked(ev: Event) -> bytes:
    """`encode_line`, with every secret masked in `ev.data` (in place) when the line holds one:
    the last line of defence, so no key reaches the log, a subscriber or an export. Cheap when
    there is nothing to mask (a substring test per known secret)."""
    line = encode_line(ev)
    secrets = secret_values()
    if secrets or b"sk-" in line or b"Bearer " in line:
        if contains_secret(line.decode("utf-8", "replace"), secrets):
            ev.data = mask_data(ev.data, secrets)
            line = encode_line(ev)
    return line


def offload(dir_: Path, ev: Event, *, durable: bool, preview_chars: int) -> dict[str, Any]:
    """Write `ev.data` to `artifacts/events/<seq>-<type>.json` under `dir_` (fsync'd when
    durable); return the preview that replaces it: short fields kept, strings cut, plus
    `{"$artifact": {path, bytes, sha256, truncated}}`."""
    raw = json.dumps(ev.data, ensure_ascii=False, indent=1, default=str).encode()
    rel = f"artifacts/events/{ev.seq:08d}-{ev.type}.json"
    target = dir_ / rel
    try:
        private_dir(target.parent)
    except OSError as exc:
        raise storage_error(target.parent, exc) from None
    write_atomic(target, raw, durable=durable)
    preview: dict[str, Any] = {}
    for key, value in ev.data.items():
        if isinstance(value, str):
            preview[key] = value[:preview_chars]
        elif len(json.dumps(value, ensure_ascii=False, default=str)) <= preview_chars:
            preview[key] = value
    preview["$artifact"] = {
        "path": rel,
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "truncated": True,
    }
    return preview
