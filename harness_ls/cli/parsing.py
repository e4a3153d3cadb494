"""How agentctl declares a command: a handler imported only when its command runs, the global
flags every command accepts before or after its name, the help layout, and the flag groups
several commands share (following a run, answering an approval).

Apart from cli/agentctl.py, which lists the commands themselves: this is the plumbing each of
them goes through, so that every command gets the same globals, help and laziness. Standard
library only, like agentctl.py: `agentctl --help` must not import the core.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], int]


def lazy(module: str, func: str) -> Handler:
    def run(app: Any) -> int:
        import importlib

        return getattr(importlib.import_module(f"harness_ls.cli.commands.{module}"), func)(app)

    return run


def global_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Global flags, accepted before or after the command (`agentctl list --json`)."""
    d = (lambda v: v) if top else (lambda _v: argparse.SUPPRESS)
    g = parser.add_argument_group("global options")
    g.add_argument("--url", default=d(None), help="daemon URL (default: $HARNESS_URL, "
                   "then the endpoint file of a running host, then http://127.0.0.1:8787)")  # fmt: skip
    g.add_argument("--token-file", default=d(None), metavar="FILE",
                   help="read the auth token from FILE's first line (default: $HARNESS_AUTH_TOKEN, "
                   "then <data dir>/auth/token, which the daemon creates)")  # fmt: skip
    g.add_argument("--token", default=d(None), help=argparse.SUPPRESS)  # refused: see app.py
    g.add_argument("--json", action="store_true", default=d(False),
                   help="machine output: one JSON document (NDJSON events when following)")  # fmt: skip
    g.add_argument("--no-color", action="store_true", default=d(False),
                   help="no ANSI colors (also NO_COLOR=1, or when stdout is not a terminal)")  # fmt: skip
    g.add_argument(
        "--data-dir",
        default=d(None),
        help="data dir (default $HARNESS_DATA_DIR or ~/.agent-harness)",
    )


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=100)


def add_command(
    sub: Any, name: str, handler: Handler, help: str, example: str, **kw: Any
) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name, help=help, description=help, epilog=f"example:\n  {example}",
        formatter_class=Formatter, **kw,
    )  # fmt: skip
    global_flags(p, top=False)
    p.set_defaults(handler=handler)
    return p


def follow_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-input", action="store_true",
                   help="never prompt for approvals (default: prompt when stdin is a terminal)")  # fmt: skip
    p.add_argument(
        "--quiet", "-q", action="store_true", help="hide model text; steps and results only"
    )


def answer_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--deny", action="store_true", help="deny instead of approve")
    p.add_argument("--note", help="a note for the record (and for the agent when denying)")
    p.add_argument("--similar", action="store_true",
                   help="also approve similar actions for the rest of this run/session")  # fmt: skip
