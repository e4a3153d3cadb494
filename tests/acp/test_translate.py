"""What an ACP editor shows of a run: plan entries and tool-call titles carry a model's (or an
MCP server's) text, so control and bidi characters and line breaks are made visible there too
(an approval's own view already was; U+202E reordered a plan entry in Zed's panel)."""

from __future__ import annotations

from harness_ls.acp.translate import plan_entries, tool_title


def test_plan_entries_show_hidden_characters() -> None:
    steps = [{"title": "add tests\u202egnp.exe", "status": "running"},
             {"title": "one\nfake: done \x1b]52;c;eA==\x07"}]  # fmt: skip
    got = [(e.content, e.status) for e in plan_entries(steps)]
    assert got == [
        ("add tests⟨U+202E⟩gnp.exe", "in_progress"),
        ("one⟨LF⟩fake: done ⟨ESC⟩]52;c;eA==⟨BEL⟩", "pending"),
    ]


def test_an_mcp_tools_name_is_shown_as_it_is() -> None:
    assert tool_title("srv__read\u2066_all", {}) == "mcp:srv.read⟨U+2066⟩_all"
    assert tool_title("list_dir", {}) == "list_dir"
