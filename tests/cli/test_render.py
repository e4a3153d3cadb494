"""The pure parts of the CLI: colors, tables, SSE parsing, the event transcript, exit codes."""

from __future__ import annotations

import io

from harness_ls.cli.client import parse_sse
from harness_ls.cli.errors import exit_code_for
from harness_ls.cli.render import EventPrinter, Style
from harness_ls.cli.tables import table


class Tty(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_colors_follow_no_color_the_flag_and_the_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Style.detect(stream=Tty()).color
    assert not Style.detect(stream=io.StringIO()).color  # a pipe
    assert not Style.detect(no_color=True, stream=Tty()).color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.detect(stream=Tty()).color
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Style.detect(stream=io.StringIO()).color


def test_table_aligns_colored_cells():
    s = Style(True)
    out = table(["A", "STATUS"], [["x", s.green("completed")], ["longer", "failed"]]).splitlines()
    assert out[0] == "A       STATUS"
    assert out[2] == "longer  failed"


def test_sse_frames_skip_keepalives_and_join_data_lines():
    lines = [": keep-alive", "id: 3", "event: log", 'data: {"a":', "data: 1}", "", "retry: 5", ""]
    assert list(parse_sse(iter(lines))) == [("3", "log", '{"a":\n1}')]


def test_transcript_joins_streamed_text_and_shows_the_answer_command():
    out: list[str] = []
    p = EventPrinter(Style(False), out.append)
    run = {"run_id": "run_1"}
    for ev in [
        {"type": "step.started", "data": {"phase": "execute", "title": "Write it"}},
        {"type": "message.delta", "data": {"text": "Hel"}},
        {"type": "message.delta", "data": {"text": "lo"}},
        {"type": "message", "data": {"role": "assistant", "content": "Hello"}},
        {"type": "approval.requested", "step_id": "st_9",
         "data": {"approval_id": "st_9", "tool": "shell", "preview": {"summary": "run make", "command": "make"}}},
        {"type": "verify.result", "data": {"command": "make test", "ok": False, "output": "boom"}},
        {"type": "run.failed", "data": {"error": "tests failed", "hint": "fix them"}},
    ]:  # fmt: skip
        p({**run, **ev})
    text = "".join(out)
    assert "  Hello\n" in text and text.count("Hello") == 1
    assert "agentctl approve --step st_9 run_1" in text and "$ make" in text
    assert "✗ make test" in text and "boom" in text and "hint: fix them" in text


def test_exit_codes_for_api_errors():
    assert exit_code_for("not_found", 404) == 5
    assert exit_code_for("conflict", 409) == 6
    assert exit_code_for("invalid_input", 422) == 2
    assert exit_code_for("unauthorized", 401) == 4
    assert exit_code_for("model_error", 502) == 1


def test_retries_and_unknown_usage_are_worded_plainly():
    out: list[str] = []
    p = EventPrinter(Style(False), out.append)
    p({"type": "model.retry", "data": {"attempt": 1, "max_attempts": 4, "status": 429,
       "error": "model_rate_limited", "message": "slow down", "delay_s": 2.0,
       "request_id": "req_9"}})  # fmt: skip
    p({"type": "model.retry", "data": {"attempt": 2, "max_attempts": 4, "phase": "stream",
       "error": "model_stream_cut", "delay_s": 0.5}})  # fmt: skip
    usage_na = {
        "input_tokens": None,
        "output_tokens": None,
        "model_calls": 2,
        "unreported_calls": 2,
    }
    usage_min = {"input_tokens": 120, "output_tokens": 9, "model_calls": 2, "unreported_calls": 1}
    p(
        {
            "type": "run.completed",
            "run_id": "r1",
            "data": {"outcome": "completed", "usage": usage_na},
        }
    )
    p(
        {
            "type": "run.completed",
            "run_id": "r2",
            "data": {"outcome": "completed", "usage": usage_min},
        }
    )
    text = "\n".join(out)
    assert "! retrying (2/4) after HTTP 429 in 2.0 s: slow down [request req_9]" in text
    assert "! retrying (3/4) after model_stream_cut mid-answer in 0.5 s" in text
    assert "(tokens n/a)" in text
    assert "(≥ 120→9 tokens)" in text


def test_an_invalid_spec_draft_shows_every_problem():
    out: list[str] = []
    p = EventPrinter(Style(False), out.append)
    start = {"start": {"line": 0, "character": 0}}
    p({"type": "spec.validated", "data": {"ok": False, "path": "specs/x/spec.md", "problems": [
        {"severity": "error", "code": "missing-section", "message": "no # Acceptance tests", "range": start},
        {"severity": "warning", "code": "empty-section", "message": "# Goal is empty",
         "range": {"start": {"line": 2, "character": 4}}},
    ]}})  # fmt: skip
    assert out == [
        "  ! spec draft has 2 problem(s); the model is repairing it:\n",
        "    specs/x/spec.md:1:1: error missing-section no # Acceptance tests\n",
        "    specs/x/spec.md:3:5: warning empty-section # Goal is empty\n",
    ]


def test_only_our_own_colours_reach_a_terminal_whatever_the_text_holds():
    """Text from a model or a file holding agentctl's very colour codes (`ESC[31m`, `ESC[0m`)
    is shown, not obeyed; a forged colour marker without this process's nonce stays inert."""
    from harness_ls.cli.style import for_terminal

    s = Style(True)
    hostile = "+ok \x1b[31m- deleted?\x1b[0m \ue00031\ue001"
    shown = for_terminal(s.green(hostile), Tty())
    assert shown == "\x1b[32m+ok ⟨ESC⟩[31m- deleted?⟨ESC⟩[0m \ue00031\ue001\x1b[0m"
    piped = for_terminal(s.green(hostile), io.StringIO())  # FORCE_COLOR into a pipe
    assert piped == f"\x1b[32m{hostile}\x1b[0m"
    assert for_terminal(hostile, io.StringIO()) == hostile  # uncoloured pipe: every byte kept


def test_the_event_printer_writes_through_the_terminal_filter(monkeypatch):
    out = Tty()
    monkeypatch.setattr("sys.stdout", out)
    p = EventPrinter(Style(True))
    p(
        {
            "run_id": "run_1",
            "type": "message",
            "data": {"role": "assistant", "content": "hi \x1b]52;c;eA==\x07"},
        }
    )
    text = out.getvalue()
    assert "\x1b]52" not in text and "⟨ESC⟩]52" in text
    assert "\ue000" not in text  # every colour marker became an escape sequence
