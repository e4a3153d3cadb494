"""Following a run's or session's SSE stream: resume after drops, Ctrl-C detaches, live approvals.

The stream is read with `Last-Event-ID` = the last seq printed, so a dropped connection (or a
restarted daemon) resumes without gaps or duplicates. When stdin and stdout are terminals a pending
approval gets an interactive prompt; it watches the approval meanwhile, so an answer from the
editor or the dashboard ends the prompt ("answered elsewhere").
"""

from __future__ import annotations

import json
import select
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError
from harness_ls.cli.render import EventPrinter
from harness_ls.cli.style import for_terminal

RETRY_FOR = 30.0  # seconds of failed reconnects before giving up
POLL = 0.5


class Detached(Exception):
    """Ctrl-C while following."""


def interactive(app: Any) -> bool:
    if app.json or getattr(app.args, "no_input", False):
        return False
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def follow(
    app: Any,
    path: str,
    *,
    after: int = 0,
    until: Callable[[dict[str, Any]], bool],
    on_event: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any] | None:
    """Read events from `path` until `until(event)`; returns that event (None: stream ended).

    `on_event(ev)` may return False to hide an event (not printed, not prompted).
    """
    client = app.client()
    printer = EventPrinter(app.style, quiet=getattr(app.args, "quiet", False))
    prompt = interactive(app)
    failing_since: float | None = None
    delay = 0.3
    while True:
        got_any = False
        try:
            for _id, _event, data in client.stream_events(path, after):
                failing_since, delay, got_any = None, 0.3, True
                try:
                    ev = json.loads(data)
                except ValueError:
                    continue
                if not isinstance(ev, dict):
                    continue
                after = int(ev.get("seq") or after)
                if on_event is not None and on_event(ev) is False:
                    continue
                if app.json:
                    print(json.dumps(ev, ensure_ascii=False), flush=True)
                else:
                    printer(ev)
                if prompt and ev.get("type") == "approval.requested":
                    ask(app, ev, printer)
                if until(ev):
                    printer.end_stream()
                    return ev
            if not got_any:  # ended cleanly with nothing new: the caller asks for the status
                printer.end_stream()
                return None
            continue  # ended early (e.g. the host is restarting): resume after `after`
        except (httpx.TransportError, httpx.StreamError) as exc:
            now = time.monotonic()
            failing_since = failing_since or now
            if now - failing_since > RETRY_FOR:
                raise CliError(
                    f"lost the connection to {client.target.url} and could not reconnect "
                    f"for {RETRY_FOR:.0f} s ({type(exc).__name__})",
                    exit_code=ex.UNREACHABLE,
                    hint="is the daemon still running? attach again once it is back",
                    code="unreachable",
                ) from None
            printer.end_stream()
            app.note(f"connection lost ({type(exc).__name__}); resuming after event {after}…")
            time.sleep(delay)
            delay = min(delay * 2, 3.0)
        except KeyboardInterrupt:
            printer.end_stream()
            raise Detached() from None


# ---- interactive approvals ---------------------------------------------------------------
def _answer_url(ev: dict[str, Any]) -> tuple[str, str]:
    aid = (ev.get("data") or {}).get("approval_id") or ev.get("step_id") or ev.get("call_id")
    if ev.get("session_id"):
        return aid, f"/v1/sessions/{ev['session_id']}/approvals/{aid}"
    return aid, f"/v1/runs/{ev['run_id']}/approvals/{aid}"


def still_pending(app: Any, approval_id: str) -> bool:
    try:
        pending = app.client().get("/v1/approvals")
    except CliError:
        return True
    return any(
        a.get("id") == approval_id and a.get("status", "pending") == "pending" for a in pending
    )


def ask(app: Any, ev: dict[str, Any], printer: EventPrinter) -> None:
    """Prompt approve/deny for a pending approval; returns when answered here or elsewhere."""
    aid, url = _answer_url(ev)
    if not still_pending(app, aid):
        return
    s = app.style
    question = f"  {s.yellow('approve?')} [y]es / [n]o / [a]pprove similar / [Enter] leave it › "
    sys.stdout.write(for_terminal(question, sys.stdout))
    sys.stdout.flush()
    last_check = time.monotonic()
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], POLL)
        if ready:
            answer = sys.stdin.readline().strip().lower()
            break
        if time.monotonic() - last_check > 1.0:
            last_check = time.monotonic()
            if not still_pending(app, aid):
                sys.stdout.write("\n")
                printer.line(f"    {s.dim('answered elsewhere')}")
                return
    if answer in ("y", "yes", "a", "approve"):
        body: dict[str, Any] = {
            "decision": "approve",
            "scope": "similar" if answer == "a" else "once",
        }
    elif answer in ("n", "no", "d", "deny"):
        sys.stdout.write("    note for the agent (optional) › ")
        sys.stdout.flush()
        note = sys.stdin.readline().strip()
        body = {"decision": "deny", **({"note": note} if note else {})}
    else:
        printer.line(f"    {s.dim('left pending; answer later with the command above')}")
        return
    try:
        app.client().post(url, json=body)
    except CliError as err:
        printer.line(f"    {s.warn} {err.message}")
