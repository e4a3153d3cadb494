"""didOpen and didChange structured by hand: the two messages of every keystroke skip cattrs.

pygls structures each message with cattrs, which generates and compiles a function per message
type on its first use (~8 ms for didOpen: the first diagnostics wait for it) and then walks the
union of content-change types on every keystroke. These two shapes are small and fixed; anything
unusual about one (a missing key, a wrong type caught by lsprotocol's validators) goes the
general way, so the result and the errors are pygls' own.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types as t


def _position(p: dict[str, Any]) -> t.Position:
    return t.Position(line=p["line"], character=p["character"])


def _change(c: dict[str, Any]) -> t.TextDocumentContentChangeEvent:
    rng = c.get("range")
    if rng is None:
        return t.TextDocumentContentChangeWholeDocument(text=c["text"])
    return t.TextDocumentContentChangePartial(
        range=t.Range(start=_position(rng["start"]), end=_position(rng["end"])),
        text=c["text"],
        range_length=c.get("rangeLength"),
    )


def _did_open(params: dict[str, Any], jsonrpc: str) -> t.DidOpenTextDocumentNotification:
    d = params["textDocument"]
    item = t.TextDocumentItem(
        uri=d["uri"], language_id=d["languageId"], version=d["version"], text=d["text"]
    )
    return t.DidOpenTextDocumentNotification(
        params=t.DidOpenTextDocumentParams(text_document=item), jsonrpc=jsonrpc
    )


def _did_change(params: dict[str, Any], jsonrpc: str) -> t.DidChangeTextDocumentNotification:
    d = params["textDocument"]
    return t.DidChangeTextDocumentNotification(
        params=t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=d["uri"], version=d["version"]),
            content_changes=tuple(_change(c) for c in params["contentChanges"]),
        ),
        jsonrpc=jsonrpc,
    )


FAST = {t.TEXT_DOCUMENT_DID_OPEN: _did_open, t.TEXT_DOCUMENT_DID_CHANGE: _did_change}


def structure(data: dict[str, Any]) -> Any | None:
    """The notification object for a didOpen / didChange message; None for anything else."""
    make = FAST.get(data.get("method"))  # type: ignore[arg-type]
    if make is None or "id" in data:
        return None
    try:
        return make(data["params"], data["jsonrpc"])
    except Exception:  # malformed: let pygls structure it, and report it its way
        return None
