"""The keystroke path's hand-made wire forms equal what lsprotocol + cattrs make (lsp/wire.py,
diagnostics.diagnostic_json, lsp/sync.py): faster, not different."""

from __future__ import annotations

import random

from lsprotocol import converters
from lsprotocol import types as t
from pygls.workspace.position_codec import PositionCodec
from pygls.workspace.text_document import TextDocument

from harness_ls.lsp import wire
from harness_ls.lsp.features.diagnostics import diagnostic_json, to_diagnostic
from harness_ls.lsp.positions import to_client_character
from harness_ls.lsp.sync import apply_change
from harness_ls.spec import validate
from harness_ls.spec.parse import split_lines

CONVERTER = converters.get_converter()
BROKEN = "## Goal 🚀 日本\n\nx\n# Goals\n\n# Acceptance Tests\n```\n"


def test_diagnostics_in_wire_form_equal_lsprotocols():
    lines = split_lines(BROKEN)
    problems = validate(BROKEN)
    assert len(problems) >= 3
    for encoding in ("utf-8", "utf-16", "utf-32"):
        for p in problems:
            ours = diagnostic_json(p, lines, encoding)
            assert ours == CONVERTER.unstructure(to_diagnostic(p, lines, encoding))


def _message(method: str, params: dict) -> dict:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def test_did_open_and_did_change_structure_as_cattrs_does():
    doc = {"uri": "file:///w/specs/a/spec.md", "languageId": "markdown", "version": 3, "text": "x"}
    ident = {"uri": doc["uri"], "version": 4}
    rng = {"start": {"line": 0, "character": 1}, "end": {"line": 2, "character": 0}}
    messages = [
        _message(t.TEXT_DOCUMENT_DID_OPEN, {"textDocument": doc}),
        _message(t.TEXT_DOCUMENT_DID_CHANGE, {"textDocument": ident, "contentChanges": [
            {"range": rng, "text": "y"}, {"range": rng, "rangeLength": 2, "text": ""}, {"text": "all"},
        ]}),
    ]  # fmt: skip
    for msg in messages:
        kind = t.METHOD_TO_TYPES[msg["method"]][0]
        assert wire.structure(msg) == CONVERTER.structure(msg, kind)


def test_malformed_keystroke_messages_go_pyglss_way():
    assert wire.structure(_message(t.TEXT_DOCUMENT_DID_CHANGE, {"textDocument": {}})) is None
    bad_line = {
        "range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}},
        "text": "",
    }
    msg = _message(t.TEXT_DOCUMENT_DID_CHANGE, {"textDocument": {"uri": "file:///a", "version": 1}, "contentChanges": [bad_line]})  # fmt: skip
    assert wire.structure(msg) is None
    assert wire.structure({"jsonrpc": "2.0", "id": 1, "method": t.TEXT_DOCUMENT_DID_OPEN}) is None


def test_incremental_edits_land_where_pygls_puts_them():
    """Every in-range edit gives pygls' text (out-of-range columns clamp to the line, as the LSP
    says, where pygls runs on into the next line)."""
    rnd = random.Random(35)
    for encoding in ("utf-8", "utf-16", "utf-32"):
        for _ in range(2000):
            text = "".join(rnd.choice("ab \n🚀é日\n") for _ in range(rnd.randint(0, 40)))
            lines = text.split("\n")

            def pos(lines=lines, encoding=encoding):
                line = rnd.randint(0, len(lines) - 1)
                col = rnd.randint(0, len(lines[line]))
                return t.Position(
                    line=line, character=to_client_character(lines[line], col, encoding)
                )

            a, b = sorted([pos(), pos()], key=lambda p: (p.line, p.character))
            change = t.TextDocumentContentChangePartial(
                range=t.Range(start=a, end=b), text=rnd.choice(["", "x", "\n", "🚀"])
            )
            doc = TextDocument("file:///x", text, position_codec=PositionCodec(encoding))
            doc.apply_change(change)
            assert apply_change(text, change, encoding) == doc.source, (text, change)


def test_edits_count_lines_the_lsp_way():
    text = "a\u2028b\r\nc\rd\ne"
    at = t.Range(start=t.Position(line=2, character=1), end=t.Position(line=3, character=0))
    change = t.TextDocumentContentChangePartial(range=at, text="X")
    assert apply_change(text, change, "utf-16") == "a\u2028b\r\nc\rdXe"
    past = t.Range(start=t.Position(line=9, character=0), end=t.Position(line=9, character=0))
    assert (
        apply_change("ab", t.TextDocumentContentChangePartial(range=past, text="!"), "utf-16")
        == "ab!"
    )
    long = t.Range(start=t.Position(line=0, character=99), end=t.Position(line=0, character=99))
    assert (
        apply_change("ab\ncd", t.TextDocumentContentChangePartial(range=long, text="!"), "utf-16")
        == "ab!\ncd"
    )
