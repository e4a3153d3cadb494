"""Wire formats of the fake model servers: a scripted response as OpenAI Chat Completions or
Anthropic Messages bodies and SSE chunks, and their error bodies. Pure functions, so benchmarks
can build the exact chunks the servers stream (see fake_models.py for the servers)."""

from __future__ import annotations

import json
import re
from typing import Any

Chunks = list[tuple[str, dict[str, Any]]]  # (SSE event name, JSON payload)


class StreamAbort(Exception):
    """Raised inside a streaming body to reset the connection mid-stream."""


def _text_chunks(text: str | list[str]) -> list[str]:
    if isinstance(text, list):
        return [str(t) for t in text]
    return [c for c in re.findall(r"\S*\s*", text) if c] if text else []


def _calls(resp: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    for i, tc in enumerate(resp.get("tool_calls") or []):
        raw = tc.get("raw_arguments")
        if raw is None:
            raw = json.dumps(tc.get("arguments") or {})
        out.append((tc.get("id") or f"call_fake_{i + 1}", tc["name"], raw))
    return out


def _frags(raw: str, size: int) -> list[str]:
    return [raw[i : i + size] for i in range(0, len(raw), size)] or [""]


def _usage(resp: dict[str, Any], body: dict[str, Any]) -> tuple[int, int]:
    u = resp.get("usage") or {}
    text = "".join(_text_chunks(resp.get("text") or ""))
    est_in = len(json.dumps(body.get("messages", ""))) // 4
    return int(u.get("input_tokens", est_in)), int(u.get("output_tokens", max(1, len(text) // 4)))


# --- OpenAI wire format -------------------------------------------------------------------------


def openai_chunks(resp: dict[str, Any], body: dict[str, Any]) -> Chunks:
    model = body.get("model", "fake")
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[str, dict[str, Any]]:
        return "", base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    out: Chunks = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": t}) for t in _text_chunks(resp.get("text") or "")]
    size = int(resp.get("fragment", 7))
    for i, (cid, name, raw) in enumerate(_calls(resp)):
        first = {
            "index": i,
            "id": cid,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        out.append(chunk({"tool_calls": [first]}))
        for frag in _frags(raw, size):
            out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": frag}}]}))
    finish = resp.get("finish_reason") or ("tool_calls" if resp.get("tool_calls") else "stop")
    out.append(chunk({}, finish))
    if (body.get("stream_options") or {}).get("include_usage"):
        n_in, n_out = _usage(resp, body)
        usage = {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out}
        out.append(("", base | {"choices": [], "usage": usage}))
    return out


def openai_message(resp: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    text = "".join(_text_chunks(resp.get("text") or ""))
    msg: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls := _calls(resp):
        msg["tool_calls"] = [
            {"id": c, "type": "function", "function": {"name": n, "arguments": r}}
            for c, n, r in calls
        ]
    n_in, n_out = _usage(resp, body)
    finish = resp.get("finish_reason") or ("tool_calls" if calls else "stop")
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
        "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
    }


def openai_error(status: int, resp: dict[str, Any]) -> dict[str, Any]:
    etype = resp.get("error_type") or (
        "rate_limit_error"
        if status == 429
        else "server_error"
        if status >= 500
        else "invalid_request_error"
    )
    return {
        "error": {
            "message": resp.get("message") or f"fake error {status}",
            "type": etype,
            "code": resp.get("error_code"),
        }
    }


# --- Anthropic wire format ----------------------------------------------------------------------

_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


def anthropic_chunks(resp: dict[str, Any], body: dict[str, Any]) -> Chunks:
    n_in, n_out = _usage(resp, body)
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model", "fake"),
               "content": [], "stop_reason": None, "usage": {"input_tokens": n_in, "output_tokens": 1}}  # fmt: skip
    out: Chunks = [
        ("message_start", {"type": "message_start", "message": message}),
        ("ping", {"type": "ping"}),
    ]
    index = 0
    if texts := _text_chunks(resp.get("text") or ""):
        out.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        for t in texts:
            out.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": t},
                    },
                )
            )
        out.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        index = 1
    size = int(resp.get("fragment", 7))
    for cid, name, raw in _calls(resp):
        block = {"type": "tool_use", "id": cid, "name": name, "input": {}}
        out.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
        )
        for frag in _frags(raw, size):
            delta = {"type": "input_json_delta", "partial_json": frag}
            out.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        out.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    finish = resp.get("finish_reason") or ("tool_calls" if resp.get("tool_calls") else "stop")
    delta = {"stop_reason": _STOP.get(finish, finish), "stop_sequence": None}
    out.append(
        (
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": n_out}},
        )
    )
    out.append(("message_stop", {"type": "message_stop"}))
    return out


def anthropic_message(resp: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text := "".join(_text_chunks(resp.get("text") or "")):
        content.append({"type": "text", "text": text})
    for cid, name, raw in _calls(resp):
        content.append(
            {"type": "tool_use", "id": cid, "name": name, "input": json.loads(raw or "{}")}
        )
    n_in, n_out = _usage(resp, body)
    finish = resp.get("finish_reason") or ("tool_calls" if resp.get("tool_calls") else "stop")
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model", "fake"),
            "content": content, "stop_reason": _STOP.get(finish, finish),
            "usage": {"input_tokens": n_in, "output_tokens": n_out}}  # fmt: skip


def anthropic_error(status: int, resp: dict[str, Any]) -> dict[str, Any]:
    default = {
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
    etype = resp.get("error_type") or default.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    return {
        "type": "error",
        "error": {"type": etype, "message": resp.get("message") or f"fake error {status}"},
    }


_ERROR_STATUS = {"model_rate_limited": 429, "model_auth": 401, "model_not_found": 404,
                 "model_context_overflow": 400, "model_bad_request": 400, "model_unavailable": 503}  # fmt: skip


def scripted_error(resp: dict[str, Any]) -> dict[str, Any]:
    """The scripted provider's {"error": {"code", "message"}} as the matching HTTP error."""
    err = resp.get("error")
    if err is None or "status" in resp:
        return resp
    err = err if isinstance(err, dict) else {"message": str(err)}
    code = err.get("code", "")
    message = err.get("message") or code or "scripted error"
    if code == "model_context_overflow" and "context" not in message:
        message = f"maximum context length exceeded: {message}"
    return resp | {"status": _ERROR_STATUS.get(code, 500), "message": message}


def stream_variant(chunks: Chunks, resp: dict[str, Any], anthropic: bool) -> Chunks:
    """Apply the script's stream quirks: `no_usage` (a server that reports none) and
    `stream_error` {"type", "message"} sent as an error event after `error_after` chunks."""
    if resp.get("no_usage"):
        out: Chunks = []
        for event, payload in chunks:
            payload = {k: v for k, v in payload.items() if k != "usage"}
            if "message" in payload:
                payload["message"] = {k: v for k, v in payload["message"].items() if k != "usage"}
            if not anthropic and not payload.get("choices"):
                continue  # the usage-only chunk
            out.append((event, payload))
        chunks = out
    err = resp.get("stream_error")
    if err:
        err = {"type": "api_error", "message": "fake stream error"} | dict(err)
        at = int(resp.get("error_after", len(chunks) // 2))
        event = ("error", {"type": "error", "error": err}) if anthropic else ("", {"error": err})
        chunks = chunks[:at] + [event]
    return chunks


# --- the server ---------------------------------------------------------------------------------
