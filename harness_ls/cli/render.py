"""Human output: colors (off for NO_COLOR, --no-color, pipes, TERM=dumb), symbols, diffs, events.

`EventPrinter` turns run and session events into a readable transcript: steps, streamed model
text, tool calls and results, colored diffs, verify results, and pending approvals with the exact
command that answers them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from harness_ls.cli.style import Style, for_terminal
from harness_ls.core.views import visible
from harness_ls.usage import tokens_text


def duration(ms: Any) -> str:
    try:
        v = float(ms)
    except (TypeError, ValueError):
        return ""
    return f"{v:.0f} ms" if v < 1000 else f"{v / 1000:.1f} s"


def retry_text(d: dict[str, Any]) -> str:
    """ "retrying (2/4) after 429 in 1.5 s: <message>" — the dashboard words it the same way."""
    status = d.get("status")
    cause = f"HTTP {status}" if status else (d.get("error") or "an error")
    if d.get("phase") == "stream":
        cause += " mid-answer"
    text = f"retrying ({int(d.get('attempt', 0)) + 1}/{d.get('max_attempts', '?')}) after {cause}"
    text += f" in {float(d.get('delay_s') or 0):.1f} s"
    if d.get("message"):
        text += f": {short(d['message'], 160)}"
    if d.get("request_id"):
        text += f" [request {d['request_id']}]"
    return text


def short(text: Any, limit: int = 300) -> str:
    s = str(text or "").strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def answer_command(ev: dict[str, Any]) -> tuple[str, str]:
    """The exact `agentctl` commands that approve / deny this approval."""
    aid = (ev.get("data") or {}).get("approval_id") or ev.get("step_id") or ev.get("call_id")
    if ev.get("session_id"):
        base = f"agentctl session approve --call {aid} {ev['session_id']}"
    else:
        base = f"agentctl approve --step {aid} {ev.get('run_id')}"
    return base, base.replace(" approve ", " approve --deny ", 1) + ' --note "why"'


def problem_lines(spec: str, details: Any) -> list[str]:
    """Spec problems from an InvalidInput's details as `file:line:col: severity code message`."""
    if not isinstance(details, list):
        return []
    out = []
    for p in details:
        if not isinstance(p, dict) or "message" not in p:
            continue
        start = (p.get("range") or {}).get("start") or {}
        line, col = int(start.get("line", 0)) + 1, int(start.get("character", 0)) + 1
        out.append(
            f"{spec}:{line}:{col}: {p.get('severity', 'error')} {p.get('code', '')} {p['message']}"
        )
    return out


def _stdout(text: str) -> None:
    sys.stdout.write(for_terminal(text, sys.stdout))
    sys.stdout.flush()


class EventPrinter:
    """Prints events as they come; keeps just enough state to join streamed text."""

    def __init__(self, style: Style, write: Callable[[str], None] | None = None, *,
                 quiet: bool = False) -> None:  # fmt: skip
        self.s = style
        self.write = write or _stdout
        self.quiet = quiet
        self.streaming = False  # inside a run of message.delta text
        self.streamed_since_message = False
        self.steps: dict[str, str] = {}

    def line(self, text: str = "") -> None:
        self.end_stream()
        self.write(text + "\n")

    def end_stream(self) -> None:
        if self.streaming:
            self.write("\n")
            self.streaming = False

    def __call__(self, ev: dict[str, Any]) -> None:
        handler = getattr(self, "on_" + ev.get("type", "").replace(".", "_"), None)
        if handler is not None:
            ev = visible(ev)  # a model's ESC/CR/bidi characters never reach the terminal raw
            handler(ev, ev.get("data") or {})

    # ---- runs -----------------------------------------------------------------------------
    def on_run_created(self, ev: dict, d: dict) -> None:
        self.line(f"{self.s.bold('run')} {ev.get('run_id')}  {self.s.dim(d.get('spec_path', ''))}")

    def on_run_started(self, ev: dict, d: dict) -> None:
        model = d.get("model") or "default model"
        extra = self.s.yellow(" (offline: no model configured)") if d.get("offline") else ""
        self.line(f"{self.s.arrow} started with {model}{extra}{self._where(d)}")

    def on_run_resumed(self, ev: dict, d: dict) -> None:
        self.line(
            f"{self.s.arrow} resumed {self.s.dim(short(d.get('reason', '')))}{self._where(d)}"
        )

    def _where(self, d: dict) -> str:
        """ " on node host/1a2b3c4d" for a run executing on a Ray worker."""
        return f" on node {self.s.bold(str(d['node']))}" if d.get("node") else ""

    def on_run_applied(self, ev: dict, d: dict) -> None:
        mark = self.s.ok if d.get("ok") else self.s.warn
        self.line(f"{mark} {short(d.get('summary') or d.get('error') or 'applied', 600)}")

    def on_plan_updated(self, ev: dict, d: dict) -> None:
        steps = d.get("steps") or []
        self.line(
            f"{self.s.bullet} {self.s.bold('plan')} ({len(steps)} step{'s' if len(steps) != 1 else ''})"
        )
        for i, st in enumerate(steps, 1):
            self.steps[st.get("id", "")] = st.get("title", "")
            self.line(f"    {i}. {st.get('title', '')}")

    def on_step_started(self, ev: dict, d: dict) -> None:
        phase = d.get("phase") or "step"
        if phase == "plan":
            return
        self.line(f"{self.s.bullet} {self.s.bold(phase)}  {d.get('title', '')}")

    def on_step_completed(self, ev: dict, d: dict) -> None:
        if d.get("phase") == "plan":
            return
        took = duration(d.get("duration_ms"))
        self.line(
            f"  {self.s.ok} {d.get('phase') or 'step'} done"
            + (f" {self.s.dim(took)}" if took else "")
        )

    def on_step_failed(self, ev: dict, d: dict) -> None:
        self.line(f"  {self.s.bad} step failed: {short(d.get('error'))}")
        if d.get("hint"):
            self.line(f"    {self.s.dim('hint: ' + d['hint'])}")

    def on_verify_started(self, ev: dict, d: dict) -> None:
        cmds = d.get("commands") or []
        attempt = d.get("attempt")
        again = f" (attempt {attempt})" if attempt and attempt > 1 else ""
        self.line(f"{self.s.bullet} {self.s.bold('verify')}  {len(cmds)} acceptance test(s){again}")

    def on_verify_result(self, ev: dict, d: dict) -> None:
        mark = self.s.ok if d.get("ok") else self.s.bad
        took = self.s.dim(duration(d.get("duration_ms")))
        self.line(f"  {mark} {d.get('command', '')}  {took}")
        if not d.get("ok") and d.get("output"):
            for out_line in str(d["output"]).splitlines()[-12:]:
                self.line(f"      {self.s.dim(out_line)}")

    def on_run_completed(self, ev: dict, d: dict) -> None:
        warnings = d.get("warnings") or []
        mark, what = (
            (self.s.warn, "run completed with warnings")
            if warnings
            else (self.s.ok, "run completed")
        )
        outcome = str(d.get("outcome", "")).split("; completed with warnings")[0]
        self.line(f"{mark} {self.s.bold(what)}: {outcome}" + self._totals(d))
        for w in warnings:
            self.line(f"  {self.s.warn} {w}")

    def on_run_failed(self, ev: dict, d: dict) -> None:
        self.line(f"{self.s.bad} {self.s.bold('run failed')}: {short(d.get('error'), 600)}")
        if d.get("hint"):
            self.line(f"  {self.s.dim('hint: ' + d['hint'])}")

    def on_run_cancelled(self, ev: dict, d: dict) -> None:
        self.line(
            f"{self.s.bad} {self.s.bold('run cancelled')}"
            + (f": {d['reason']}" if d.get("reason") else "")
        )

    def on_run_interrupted(self, ev: dict, d: dict) -> None:
        rid = ev.get("run_id")
        self.line(f"{self.s.warn} {self.s.bold('run interrupted')}: {short(d.get('reason'))}")
        self.line(f"  {self.s.dim(f'resume it with: agentctl run --resume {rid}')}")

    def _totals(self, d: dict) -> str:
        bits = []
        if d.get("duration_ms"):
            bits.append(duration(d["duration_ms"]))
        usage = d.get("usage") or {}
        if usage.get("input_tokens") or usage.get("unreported_calls"):
            bits.append(tokens_text(usage))
        if d.get("tool_calls"):
            bits.append(f"{d['tool_calls']} tool call(s)")
        return f"  {self.s.dim('(' + ', '.join(bits) + ')')}" if bits else ""

    # ---- model text and tools -------------------------------------------------------------
    def on_message_delta(self, ev: dict, d: dict) -> None:
        if self.quiet:
            return
        text = d.get("text") or ""
        if not text:
            return
        if not self.streaming:
            self.write("  ")
            self.streaming = True
        self.write(text.replace("\n", "\n  "))
        self.streamed_since_message = True

    def on_message(self, ev: dict, d: dict) -> None:
        if self.streamed_since_message or self.quiet or d.get("role") != "assistant":
            self.streamed_since_message = False
            self.end_stream()
            return
        content = d.get("content")
        if isinstance(content, str) and content.strip():
            self.line("  " + content.strip().replace("\n", "\n  "))

    def on_tool_call(self, ev: dict, d: dict) -> None:
        args = d.get("arguments") or {}
        what = (
            args.get("path")
            or args.get("command")
            or args.get("pattern")
            or args.get("query")
            or ""
        )
        self.line(f"  {self.s.arrow} {self.s.bold(d.get('name', 'tool'))} {short(what, 160)}")

    def on_tool_result(self, ev: dict, d: dict) -> None:
        mark = self.s.ok if d.get("ok") else self.s.bad
        self.line(
            f"    {mark} {short(d.get('output'), 200).splitlines()[0] if d.get('output') else ''}"
        )
        diff = (d.get("data") or {}).get("diff")
        if isinstance(diff, str) and diff.strip() and not self.quiet:
            self.line(self.s.diff(diff.rstrip("\n"), indent="      "))

    def on_tool_refused(self, ev: dict, d: dict) -> None:
        self.line(f"    {self.s.bad} refused: {short(d.get('reason'))}{refusal_rule(d)}")

    def on_approval_requested(self, ev: dict, d: dict) -> None:
        from harness_ls.cli.approval_text import approval_lines

        head, *rest = approval_lines(self.s, d)
        self.line(f"  {head}")
        for line in rest:
            self.line(line)
        approve, deny = answer_command(ev)
        self.line(f"    approve: {self.s.bold(approve)}")
        self.line(f"    deny:    {deny}")

    def on_approval_resolved(self, ev: dict, d: dict) -> None:
        decision = d.get("decision")
        mark = self.s.ok if decision == "approve" else self.s.bad
        word = {"approve": "approved", "deny": "denied"}.get(decision or "", decision or "")
        by = f" by {d['surface']}" if d.get("surface") else ""
        note = f": {d['note']}" if d.get("note") else ""
        self.line(f"    {mark} {word}{by}{note}")

    def on_log(self, ev: dict, d: dict) -> None:
        level = d.get("level", "info")
        if d.get("code") == "policy.session_rule":  # what "approve similar" now lets through
            self.line(f"  {self.s.ok} {short(d.get('message'), 400)}")
        elif level in ("warning", "error"):
            mark = self.s.warn if level == "warning" else self.s.bad
            self.line(f"  {mark} {short(d.get('message'), 400)}")

    def on_model_retry(self, ev: dict, d: dict) -> None:
        self.end_stream()
        self.line(f"  {self.s.warn} {retry_text(d)}")

    def on_message_discarded(self, ev: dict, d: dict) -> None:
        self.end_stream()
        chars = d.get("chars", 0)
        self.line("  " + self.s.dim(f"(the {chars} characters above broke off and are discarded)"))

    def on_model_unavailable(self, ev: dict, d: dict) -> None:
        msg = d.get("message") or d.get("reason") or "model unavailable"
        self.line(f"  {self.s.warn} {short(msg, 400)}")
        if d.get("hint"):
            self.line(f"    {self.s.dim('hint: ' + d['hint'])}")

    def on_docs_updated(self, ev: dict, d: dict) -> None:
        paths = d.get("paths") or []
        if paths:
            self.line(f"  {self.s.ok} docs updated: {', '.join(paths)}")

    def on_artifact_written(self, ev: dict, d: dict) -> None:
        self.line(f"  {self.s.dim('artifact ' + str(d.get('path', '')))}")

    # ---- sessions -------------------------------------------------------------------------
    def on_user_message(self, ev: dict, d: dict) -> None:
        content = d.get("content")
        text = content if isinstance(content, str) else "(content parts)"
        refs = d.get("refs") or []
        extra = self.s.dim(f"  [{', '.join(refs)}]") if refs else ""
        self.line(f"{self.s.bold('you')}: {short(text, 2000)}{extra}")

    def on_turn_started(self, ev: dict, d: dict) -> None:
        self.line(self.s.dim(f"— turn {d.get('turn', '')}"))

    def on_turn_completed(self, ev: dict, d: dict) -> None:
        if d.get("ok") is False:
            why = d.get("error") or d.get("outcome") or "failed"
            self.line(f"{self.s.bad} turn {d.get('turn', '')} failed: {short(why, 400)}")
        else:
            self.end_stream()

    def on_turn_cancelled(self, ev: dict, d: dict) -> None:
        self.line(f"{self.s.warn} turn {d.get('turn', '')} cancelled: {d.get('reason', '')}")

    def on_turn_queued(self, ev: dict, d: dict) -> None:
        self.line(self.s.dim(f"  queued (position {d.get('position')}) behind the running turn"))

    def on_attachment_added(self, ev: dict, d: dict) -> None:
        self.line(
            self.s.dim(f"  attached {d.get('ref')} ({d.get('mime')}, {d.get('bytes')} bytes)")
        )

    def on_attachment_skipped(self, ev: dict, d: dict) -> None:
        self.end_stream()
        self.line(f"  {self.s.warn} {d.get('name')} was not sent to the model: {d.get('reason')}")

    def on_spec_validated(self, ev: dict, d: dict) -> None:
        self.end_stream()
        if d.get("ok"):
            self.line(f"  {self.s.ok} spec valid")
            return
        problems = problem_lines(d.get("path") or "spec", d.get("problems"))
        self.line(
            f"  {self.s.warn} spec draft has {len(problems)} problem(s); the model is repairing it:"
        )
        for line in problems:  # every problem, not only the first: the user sees what is wrong
            self.line(f"    {line}")

    def on_spec_written(self, ev: dict, d: dict) -> None:
        self.line(f"  {self.s.ok} wrote {d.get('path')}")

    def on_context_localized(self, ev: dict, d: dict) -> None:
        picked = [str(p) for p in d.get("picked") or []]
        if picked:
            self.line(self.s.dim(f"  model picked {short(', '.join(picked), 300)} from the map"))
        else:
            self.line(f"  {self.s.warn} localization: {short(d.get('note') or 'no pick', 400)}")

    def on_context_trimmed(self, ev: dict, d: dict) -> None:
        self.line(
            self.s.dim(
                f"  history trimmed to fit the model ({d.get('dropped')} message(s) dropped)"
            )
        )


def refusal_rule(d: dict) -> str:
    """The rule that refused, apart from the reason (" (rule: containment)"); a user's "no" is
    already said by the reason ("denied by cli: not now")."""
    rule = str(d.get("rule") or "")
    return "" if rule in ("", "user") or rule in str(d.get("reason") or "") else f" (rule: {rule})"
