"""The language server through pytest-lsp with real VS Code and Neovim client capabilities."""

from __future__ import annotations

import asyncio

from lsprotocol import types as t

from harness_ls.spec import apply_edits, validate
from harness_ls.spec.model import Position, Range, TextEdit
from harness_ls.testing.specs import GOOD_SPEC as GOOD


def _open(client, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(
                uri=uri, language_id="markdown", version=version, text=text
            )
        )
    )


async def _pull(client, uri: str) -> list[t.Diagnostic]:
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri=uri))
    )
    return list(report.items)


def _fix_edits(action: t.CodeAction, uri: str, version: int | None) -> list[t.TextEdit]:
    """The edits of a quick fix: tied to the document version they were made for when the client
    announced `documentChanges` (VS Code: a stale fix is then refused, not misapplied), plain
    `changes` otherwise (`version` None: Neovim does not announce it)."""
    if version is None:
        assert action.edit.document_changes is None
        return action.edit.changes[uri]
    assert action.edit.changes is None
    [change] = action.edit.document_changes
    assert (change.text_document.uri, change.text_document.version) == (uri, version)
    return change.edits


def _apply_lsp_edits(text: str, edits) -> str:
    """Apply LSP TextEdits (utf-16 or utf-8 positions are ASCII here) to text."""
    return apply_edits(
        text,
        [
            TextEdit(
                range=Range(
                    start=Position(line=e.range.start.line, character=e.range.start.character),
                    end=Position(line=e.range.end.line, character=e.range.end.character),
                ),
                new_text=e.new_text,
            )
            for e in edits
        ],
    )


async def test_neovim_pulls_diagnostics_and_gets_no_push(nvim_client):
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    _open(nvim_client, uri, "# Goal\n\nx\n")
    items = await _pull(nvim_client, uri)
    codes = sorted(d.code for d in items)
    assert codes == ["HLS001", "HLS001"]
    await asyncio.sleep(0.2)
    assert nvim_client.diagnostics.get(uri) is None  # never both push and pull


async def test_push_client_gets_diagnostics_on_open_and_change(push_client):
    uri = (push_client.root / "specs/login/spec.md").as_uri()
    _open(push_client, uri, GOOD)
    await push_client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(push_client.diagnostics[uri]) == []
    push_client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                t.TextDocumentContentChangePartial(
                    range=t.Range(
                        start=t.Position(line=0, character=2), end=t.Position(line=0, character=6)
                    ),
                    text="Goals",
                )
            ],
        )
    )
    await push_client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in push_client.diagnostics[uri]] == ["HLS005"]


async def test_other_markdown_gets_nothing(nvim_client):
    uri = (nvim_client.root / "README.md").as_uri()
    _open(nvim_client, uri, "# Hello\n")
    assert await _pull(nvim_client, uri) == []


async def test_quick_fixes_make_the_spec_valid(nvim_client):
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    text = "## Goal\n\nLogin.\n\n# Constraints\n\n- none\n"
    _open(nvim_client, uri, text)
    for _ in range(5):
        items = await _pull(nvim_client, uri)
        if not items:
            break
        actions = await nvim_client.text_document_code_action_async(
            t.CodeActionParams(
                text_document=t.TextDocumentIdentifier(uri=uri),
                range=items[0].range,
                context=t.CodeActionContext(
                    diagnostics=[items[0]], only=[t.CodeActionKind.QuickFix]
                ),
            )
        )
        preferred = [a for a in actions if a.is_preferred]
        assert preferred, actions
        text = _apply_lsp_edits(text, _fix_edits(preferred[0], uri, None))
        nvim_client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=_ + 2),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    assert await _pull(nvim_client, uri) == []
    assert validate(text) == []


async def _fix_all(client, version: int) -> tuple[str, str, t.CodeAction]:
    """(uri, text, the one fix-all action) for a spec with two fixable problems."""
    uri = (client.root / "specs/login/spec.md").as_uri()
    text = "# Goals\nx\n# Acceptance Tests\n- `make test`\n"
    _open(client, uri, text, version=version)
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=uri),
            range=t.Range(
                start=t.Position(line=0, character=0), end=t.Position(line=0, character=0)
            ),
            context=t.CodeActionContext(diagnostics=[], only=["source.fixAll.harness"]),
        )
    )
    assert len(actions) == 1 and actions[0].kind == "source.fixAll.harness"
    return uri, text, actions[0]


async def test_fix_all_source_action(vscode_client):
    uri, text, action = await _fix_all(vscode_client, 1)
    fixed = _apply_lsp_edits(text, _fix_edits(action, uri, 1))
    assert [p.code for p in validate(fixed)] == ["HLS012"]  # the inserted placeholder: a warning


async def test_a_client_without_document_changes_gets_plain_changes(push_client):
    uri, text, action = await _fix_all(push_client, 7)
    fixed = _apply_lsp_edits(text, _fix_edits(action, uri, None))
    assert [p.code for p in validate(fixed)] == ["HLS012"]


async def test_completion_offers_missing_headings(nvim_client):
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    _open(nvim_client, uri, "# Goal\n\nx\n\n#")
    result = await nvim_client.text_document_completion_async(
        t.CompletionParams(
            text_document=t.TextDocumentIdentifier(uri=uri),
            position=t.Position(line=4, character=1),
        )
    )
    labels = [i.label for i in result.items]
    assert "# Constraints / nuances" in labels and "# Acceptance tests" in labels
    assert "# Goal" not in labels


async def test_no_heading_completion_in_a_fenced_block(nvim_client):
    """`#` is the completion's trigger character: typing a shell comment in an acceptance test's
    fenced block popped up "# Goal", "# Constraints / nuances"... and Enter replaced the comment."""
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    text = GOOD + "\n```sh\n# start the server first\nmake serve\n```\n\n```\n#"
    _open(nvim_client, uri, text)
    lines = text.split("\n")
    for line in (lines.index("# start the server first"), len(lines) - 1):  # closed, open fence
        result = await nvim_client.text_document_completion_async(
            t.CompletionParams(
                text_document=t.TextDocumentIdentifier(uri=uri),
                position=t.Position(line=line, character=1),
            )
        )
        assert result is None, (line, result)
    _open(nvim_client, uri, GOOD + "\n#", version=2)  # after the fence: a heading again
    result = await nvim_client.text_document_completion_async(
        t.CompletionParams(
            text_document=t.TextDocumentIdentifier(uri=uri),
            position=t.Position(line=len(GOOD.split("\n")), character=1),
        )
    )
    assert [i.label for i in result.items] == ["# Context", "# Notes", "# Out of scope"]


async def test_empty_spec_completion_offers_template(nvim_client):
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    _open(nvim_client, uri, "")
    result = await nvim_client.text_document_completion_async(
        t.CompletionParams(
            text_document=t.TextDocumentIdentifier(uri=uri),
            position=t.Position(line=0, character=0),
        )
    )
    problems = validate(result.items[0].text_edit.new_text)  # no error; placeholders to fill in
    assert [(p.code, p.section) for p in problems] == [
        ("HLS012", "goal"),
        ("HLS012", "constraints"),
    ]


async def test_symbols_and_hover(vscode_client):
    uri = (vscode_client.root / "specs/login/spec.md").as_uri()
    _open(vscode_client, uri, GOOD + "\n## Unit\n\n- `pytest tests/unit`\n")
    symbols = await vscode_client.text_document_document_symbol_async(
        t.DocumentSymbolParams(text_document=t.TextDocumentIdentifier(uri=uri))
    )
    assert [s.name for s in symbols] == ["Goal", "Constraints / nuances", "Acceptance tests"]
    assert [c.name for c in symbols[2].children] == ["Unit"]
    hover = await vscode_client.text_document_hover_async(
        t.HoverParams(
            text_document=t.TextDocumentIdentifier(uri=uri),
            position=t.Position(line=8, character=4),
        )
    )
    assert "Acceptance tests" in hover.contents.value and "verify" in hover.contents.value


async def test_hover_on_a_missing_last_section_explains_that_section(nvim_client):
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    text = "# Goal\n\nx\n\n# Constraints / nuances\n\n- keep it small\n\n"
    _open(nvim_client, uri, text)
    missing = [d for d in await _pull(nvim_client, uri) if d.code == "HLS001"]
    assert [(d.range.start.line, d.range.end.character) for d in missing] == [(6, 15)]
    assert "Acceptance tests" in missing[0].message

    async def hover_at(line: int):
        return await nvim_client.text_document_hover_async(
            t.HoverParams(
                text_document=t.TextDocumentIdentifier(uri=uri),
                position=t.Position(line=line, character=2),
            )
        )

    on_goal = await hover_at(0)
    assert on_goal.contents.value.startswith("**Goal**") and "missing" not in on_goal.contents.value
    at_end = await hover_at(6)
    assert at_end.contents.value.startswith("**Acceptance tests** — required section, missing")
    assert at_end.range.start.line == 6
    # a missing middle section sits on the next heading: hover there explains both
    uri = (nvim_client.root / "specs/middle/spec.md").as_uri()
    _open(nvim_client, uri, "# Goal\n\nx\n\n# Acceptance tests\n\n- `true`\n")
    on_tests = (await hover_at(4)).contents.value
    assert on_tests.startswith("**Acceptance tests** — Required section.")
    assert "**Constraints / nuances** — required section, missing" in on_tests


async def test_positions_follow_negotiated_encoding(nvim_client, vscode_client):
    text = "# Goal\n\nx 🚀 Goal 日本\n"
    for client, expected_end in (
        (nvim_client, len("x 🚀 Goal 日本".encode())),
        (vscode_client, len("x 🚀 Goal 日本") + 1),
    ):
        uri = (client.root / "specs/login/spec.md").as_uri()
        _open(client, uri, text)
        if client is nvim_client:
            items = await _pull(client, uri)
        else:
            await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            items = client.diagnostics[uri]
        last_line = [d for d in items if d.code == "HLS001" and d.range.start.line == 2]
        assert last_line, items
        assert last_line[0].range.end.character == expected_end


async def test_broken_workspace_schema_warns_and_keeps_linting(nvim_client):
    (nvim_client.root / ".harness").mkdir()
    (nvim_client.root / ".harness" / "spec.schema.json").write_text("{not json")
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    _open(nvim_client, uri, "# Goal\n\nx\n")
    codes = [d.code for d in await _pull(nvim_client, uri)]
    assert codes[0] == "HLS000" and "HLS001" in codes


async def test_huge_and_odd_documents_keep_the_server_up(nvim_client):
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    big = (GOOD + "\n## More\n\n" + "text line with words\n" * 20) * 4000  # ~2 MB
    _open(nvim_client, uri, big)
    await _pull(nvim_client, uri)
    for i, odd in enumerate(
        ["\r\n".join(GOOD.splitlines()), "```\n# Goal\n```\n", "\x00\x01\x02", "\ufeff# Goal"]
    ):
        nvim_client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=10 + i),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=odd)],
            )
        )
        await _pull(nvim_client, uri)
    crlf = "\r\n".join(GOOD.splitlines())
    nvim_client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=99),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=crlf)],
        )
    )
    assert await _pull(nvim_client, uri) == []


async def test_settings_pulled_with_workspace_configuration(nvim_client):
    nvim_client.set_configuration({"specGlobs": ["docs/*.md"]}, section="harness")
    nvim_client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))
    uri = (nvim_client.root / "docs" / "plan.md").as_uri()
    _open(nvim_client, uri, "# Goal\n")
    for _ in range(50):
        if await _pull(nvim_client, uri):
            break
        await asyncio.sleep(0.05)
    assert await _pull(nvim_client, uri)
    spec_uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    _open(nvim_client, spec_uri, "# Goal\n")
    assert await _pull(nvim_client, spec_uri) == []  # no longer a spec under these globs


async def test_wrong_settings_are_reported_and_ignored(nvim_client):
    nvim_client.workspace_did_change_configuration(
        t.DidChangeConfigurationParams(settings={"harness": {"policyMode": "yolo"}})
    )
    msg = await nvim_client.wait_for_notification(t.WINDOW_SHOW_MESSAGE)
    assert "policyMode" in msg.message and "yolo" in msg.message


async def test_a_folder_added_after_start_is_a_workspace(nvim_client, tmp_path_factory):
    """VS Code's "Add Folder to Workspace" (workspace/didChangeWorkspaceFolders): the server
    kept the folders it started with, so a spec in the new folder (no git repository) could
    not run: "... is not inside a workspace folder or a git repository"."""
    second = tmp_path_factory.mktemp("second")
    spec = second / "specs" / "hello" / "spec.md"
    spec.parent.mkdir(parents=True)
    spec.write_text(GOOD.replace("`pytest -q`", "`test -f specs/hello/spec.md`"))
    nvim_client.workspace_did_change_workspace_folders(
        t.DidChangeWorkspaceFoldersParams(
            event=t.WorkspaceFoldersChangeEvent(
                added=[t.WorkspaceFolder(uri=second.as_uri(), name="second")], removed=[]
            )
        )
    )
    _open(nvim_client, spec.as_uri(), spec.read_text())
    assert await _pull(nvim_client, spec.as_uri()) == []
    result = await nvim_client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.runAcceptanceTests", arguments=[spec.as_uri()])
    )
    assert (result["passed"], result["failed"]) == (1, 0)  # run in the new folder
    assert [r["command"] for r in result["results"]] == ["test -f specs/hello/spec.md"]


async def test_sections_and_fenced_blocks_fold(nvim_client):
    """`vim.lsp.foldexpr()` / VS Code folding: textDocument/foldingRange was "Method Not Found"."""
    uri = (nvim_client.root / "specs/login/spec.md").as_uri()
    text = GOOD + "\n```sh\n# start the server\nmake serve\n```\n\n## Notes 📝\n\none\ntwo\n\n\n"
    _open(nvim_client, uri, text)
    result = await nvim_client.text_document_folding_range_async(
        t.FoldingRangeParams(text_document=t.TextDocumentIdentifier(uri=uri))
    )
    got = [(r.start_line, r.end_line, r.kind) for r in result]
    region = t.FoldingRangeKind.Region
    assert got == [
        (0, 2, region),  # Goal: heading to its last non-blank line
        (4, 6, region),  # Constraints / nuances
        (8, 20, region),  # Acceptance tests, with the fence and its ## Notes
        (12, 15, region),  # the fenced block
        (17, 20, region),  # ## Notes
    ]
    other = (nvim_client.root / "README.md").as_uri()
    _open(nvim_client, other, text)
    assert (
        await nvim_client.text_document_folding_range_async(
            t.FoldingRangeParams(text_document=t.TextDocumentIdentifier(uri=other))
        )
    ) is None


async def test_new_spec_goes_into_the_folder_the_user_is_in(nvim_client, tmp_path_factory):
    """`harness.newSpec(name, uri)`: with two folders open the spec went into the first one,
    whichever folder the user was working in."""
    second = tmp_path_factory.mktemp("second")
    nvim_client.workspace_did_change_workspace_folders(
        t.DidChangeWorkspaceFoldersParams(
            event=t.WorkspaceFoldersChangeEvent(
                added=[t.WorkspaceFolder(uri=second.as_uri(), name="second")], removed=[]
            )
        )
    )
    inside = (second / "src" / "app.py").as_uri()
    made = await nvim_client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.newSpec", arguments=["notes", inside])
    )
    assert made["path"] == str(second / "specs" / "notes" / "spec.md")
    first = await nvim_client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="harness.newSpec", arguments=["plain"])
    )
    assert first["path"] == str(nvim_client.root / "specs" / "plain" / "spec.md")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    try:
        await nvim_client.workspace_execute_command_async(
            t.ExecuteCommandParams(
                command="harness.newSpec", arguments=["lost", elsewhere.as_uri()]
            )
        )
    except Exception as exc:  # noqa: BLE001 - the JSON-RPC error the client got
        assert f"{elsewhere} is in no workspace folder: open its folder first" in str(exc)
    else:
        raise AssertionError("a uri outside every folder was accepted")
    assert not (elsewhere / "specs").exists()
