"""`agentctl`: the command line client of harness-ls.

Run commands talk to a running host (agentd, or an editor's harness-ls) over its HTTP API; `init`,
`spec`, `diff`, `revert`, `checkpoints`, `context`, `mcp list` and `policy` call the core locally
and need no daemon.
This module only builds the parser: command modules are imported when their command runs, so
`agentctl --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

EXIT_CODES_HELP = """exit codes:
  0    success (attach: the run completed)
  1    the run failed / was cancelled, a check failed
  2    usage error or bad input (flags, invalid spec, missing file)
  3    cannot reach the daemon (agentd or an editor's harness-ls)
  4    the daemon rejected the token (or needs one)
  5    unknown run, session, approval or checkpoint
  6    conflict: already exists, already answered, busy, or revert kept your edits
  130  detached with Ctrl-C (the run keeps going)"""

EPILOG = f"""examples:
  agentctl init
  agentctl spec new login
  agentctl spec prompt --prompt "Add a /health endpoint that returns ok" health
  agentctl run --workspace . --spec specs/health/spec.md --follow
  agentctl attach <run_id>
  agentctl approve --step <step_id> <run_id>
  agentctl session new --workspace .
  agentctl doctor

environment: HARNESS_URL, HARNESS_AUTH_TOKEN, HARNESS_DATA_DIR, NO_COLOR, HARNESS_DEBUG=1
(tracebacks). Full reference: docs/cli.md

{EXIT_CODES_HELP}"""

Handler = Callable[[Any], int]


def _lazy(module: str, func: str) -> Handler:
    def run(app: Any) -> int:
        import importlib

        return getattr(importlib.import_module(f"harness_ls.cli.commands.{module}"), func)(app)

    return run


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
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


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=100)


def _add(
    sub: Any, name: str, handler: Handler, help: str, example: str, **kw: Any
) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name, help=help, description=help, epilog=f"example:\n  {example}",
        formatter_class=_Formatter, **kw,
    )  # fmt: skip
    _globals(p, top=False)
    p.set_defaults(handler=handler)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentctl",
        description="Drive harness-ls runs, approvals and chat sessions from the terminal.",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    _globals(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    _setup_commands(sub)
    _run_commands(sub)
    _host_commands(sub)
    _change_commands(sub)
    _tool_commands(sub)

    _policy(sub)
    _sessions(sub)
    return parser


def _setup_commands(sub: Any) -> None:
    """Init and spec: scaffolding and writing specs."""
    p = _add(sub, "init", _lazy("local", "init"), "scaffold this git repo for spec-driven work",
             "agentctl init --dry-run")  # fmt: skip
    p.add_argument("--workspace", default=".", help="the repo (default: .)")
    p.add_argument("--force", action="store_true", help="overwrite existing files (with a backup)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.add_argument(
        "--with-schema", action="store_true", help="also write .harness/spec.schema.json"
    )

    spec = sub.add_parser("spec", help="create specs", formatter_class=_Formatter)
    _globals(spec, top=False)
    spec_sub = spec.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND", required=True)
    p = _add(spec_sub, "new", _lazy("local", "spec_new"), "write specs/<name>/spec.md from the template",
             "agentctl spec new login")  # fmt: skip
    p.add_argument("name")
    p.add_argument("--workspace", default=".")
    p = _add(spec_sub, "prompt", _lazy("local", "spec_prompt"),
             "generate specs/<name>/spec.md from a prompt with the resolved model (offline: template)",
             'agentctl spec prompt --prompt "Add a /health endpoint that returns ok" health')  # fmt: skip
    p.add_argument("name")
    p.add_argument("--prompt", help="what the spec is about")
    p.add_argument("--prompt-file", help="read the prompt from a file ('-' = stdin)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing spec")
    p.add_argument("--workspace", default=".")
    p.add_argument("--model", help="model to use (default: HARNESS_MODEL / the resolver)")


def _run_commands(sub: Any) -> None:
    """Runs: start, attempts, follow, answer, export, list, cancel."""
    p = _add(sub, "run", _lazy("runs", "run"), "start a run from a spec; prints the run id",
             "agentctl run --workspace . --spec specs/health/spec.md --follow")  # fmt: skip
    p.add_argument("--workspace", default=".", help="the git repo (default: .)")
    p.add_argument("--spec", help="spec path, relative to the workspace")
    p.add_argument("--model", help="model id, e.g. gpt-4.1 or scripted:answers.json")
    p.add_argument("--resume", metavar="RUN_ID", help="continue an interrupted run")
    p.add_argument(
        "--follow", "-f", action="store_true", help="attach to the run after starting it"
    )
    p.add_argument(
        "--attempts",
        type=int,
        metavar="N",
        help="run N independent attempts, compare them, apply one (agentctl attempts)",
    )
    p.add_argument(
        "--models",
        metavar="A,B,...",
        help="with --attempts: one model per attempt (cycled), e.g. gpt-4.1,claude-sonnet-4",
    )
    p.add_argument("--branch", action="store_true",
                   help="Ray executor: put the result on harness/<run_id>, not the work tree")  # fmt: skip
    _follow_flags(p)

    at = sub.add_parser("attempts", help="parallel attempts: list, show, apply one, discard",
                        formatter_class=_Formatter)  # fmt: skip
    _globals(at, top=False)
    at_sub = at.add_subparsers(dest="at_command", metavar="ATTEMPTS_COMMAND")
    at.set_defaults(handler=_lazy("attempts", "show"), attempts_id=None)
    p = _add(at_sub, "show", _lazy("attempts", "show"), "attempts side by side (default: all groups)",
             "agentctl attempts show att_01H...")  # fmt: skip
    p.add_argument("attempts_id", nargs="?")
    p.add_argument("--wait", action="store_true", help="wait until every attempt has ended")
    p = _add(at_sub, "apply", _lazy("attempts", "apply"),
             "apply attempt N to the work tree; the others are discarded",
             "agentctl attempts apply att_01H... 2")  # fmt: skip
    p.add_argument("attempts_id")
    p.add_argument("attempt", type=int)
    p = _add(at_sub, "discard", _lazy("attempts", "discard"), "discard every attempt of a group",
             "agentctl attempts discard att_01H...")  # fmt: skip
    p.add_argument("attempts_id")

    p = _add(sub, "attach", _lazy("runs", "attach"), "follow a run's live events until it ends (a session id: its turns)",
             "agentctl attach run_01H...")  # fmt: skip
    p.add_argument("run_id")
    _follow_flags(p)

    p = _add(sub, "approve", _lazy("runs", "approve"), "approve (or --deny) a run's pending step",
             'agentctl approve --step st_01H... run_01H...   (or --deny --note "why")')  # fmt: skip
    p.add_argument("run_id")
    p.add_argument("--step", required=True, metavar="STEP_ID", help="the approval's step id")
    _answer_flags(p)

    p = _add(sub, "export", _lazy("runs", "export"), "download a run as a zip",
             "agentctl export --out run.zip run_01H...")  # fmt: skip
    p.add_argument("run_id")
    p.add_argument("--out", help="zip path (default: <run_id>.zip)")

    p = _add(sub, "list", _lazy("runs", "list_runs"), "list runs, newest first (alias: runs)",
             "agentctl list --status waiting_approval", aliases=["runs"])  # fmt: skip
    p.add_argument("--status", choices=["created", "running", "waiting_approval", "completed",
                                        "failed", "cancelled", "interrupted"])  # fmt: skip
    p.add_argument("--limit", type=int, default=50)

    p = _add(sub, "approvals", _lazy("runs", "approvals"), "list pending approvals",
             "agentctl approvals")  # fmt: skip

    p = _add(sub, "cancel", _lazy("runs", "cancel"), "cancel a run", "agentctl cancel run_01H...")
    p.add_argument("run_id")


def _host_commands(sub: Any) -> None:
    """The host itself: doctor and the dashboard link."""
    p = _add(sub, "doctor", _lazy("doctor", "doctor"), "check the setup; each line has a fix",
             "agentctl doctor")  # fmt: skip

    p = _add(sub, "dashboard", _lazy("dashboard", "dashboard"),
             "open the dashboard, logged in (a one-time login link)",
             "agentctl dashboard --print")  # fmt: skip
    p.add_argument("--print", action="store_true", dest="print_only",
                   help="print the one-time link instead of opening a browser")  # fmt: skip


def _change_commands(sub: Any) -> None:
    """What the agent changed: diff, revert, checkpoints."""
    p = _add(sub, "diff", _lazy("local", "diff"),
             "exactly what the agent changed, per step and tool call (never your edits)",
             "agentctl diff run_01H... --step 1 --stat")  # fmt: skip
    p.add_argument("run_id", help="a run id, or a chat session id (ses_...)")
    step = p.add_mutually_exclusive_group()
    step.add_argument("--step", type=int, help="only step N (numbered from 1, as attach shows)")
    step.add_argument("--call", metavar="TOOL_CALL_ID", help="only that tool call (call_...)")
    p.add_argument("--stat", action="store_true", help="file names and line counts only")
    p.add_argument("--workspace", help="the work tree (default: the run's workspace)")

    p = _add(sub, "revert", _lazy("local", "revert"),
             "undo the agent's changes; files you changed since are kept and reported",
             "agentctl revert run_01H... --dry-run")  # fmt: skip
    p.add_argument("run_id", help="a run id, or a chat session id (ses_...)")
    step = p.add_mutually_exclusive_group()
    step.add_argument("--step", type=int, help="only undo step N (numbered from 1)")
    step.add_argument("--call", metavar="TOOL_CALL_ID",
                      help="only undo that tool call (its id from `agentctl diff`)")  # fmt: skip
    p.add_argument("--workspace", help="the work tree (default: the run's workspace)")
    p.add_argument("--dry-run", action="store_true", help="show what would change")
    p.add_argument("--force", action="store_true",
                   help="also overwrite files you changed after the agent (saved first)")  # fmt: skip

    cp = sub.add_parser("checkpoints", help="manage checkpoints", formatter_class=_Formatter)
    _globals(cp, top=False)
    cp_sub = cp.add_subparsers(dest="cp_command", metavar="CHECKPOINTS_COMMAND", required=True)
    p = _add(cp_sub, "gc", _lazy("local", "checkpoints_gc"), "delete checkpoint refs of old runs",
             "agentctl checkpoints gc --older-than 7d --dry-run")  # fmt: skip
    p.add_argument("--workspace", default=".")
    p.add_argument("--older-than", default="14d", help='age like "14d", "12h", "0s" (default 14d)')
    p.add_argument("--dry-run", action="store_true")


def _tool_commands(sub: Any) -> None:
    """Context, MCP servers and the ACP host."""
    p = _add(sub, "context", _lazy("local", "context"),
             "print the ranked repo map + excerpts the agent would see",
             "agentctl context --workspace . --spec specs/x/spec.md --budget 8000")  # fmt: skip
    p.add_argument("--workspace", default=".")
    p.add_argument("--spec", help="use this spec as the task")
    p.add_argument("--task", help="task text (instead of --spec)")
    p.add_argument("--budget", type=int, default=8000, help="token budget (default 8000)")
    p.add_argument("--explain", action="store_true",
                   help="print, per file shown, the ranking features that put it there")  # fmt: skip
    p.add_argument("--localize", action="store_true",
                   help="let the model pick files from the ranked map first, as a run does "
                        "(one short model request; needs a configured model)")  # fmt: skip
    p.add_argument("--model", help="model for --localize (default: the run's, as resolved)")

    mcp = sub.add_parser("mcp", help="MCP servers (tools from outside)", formatter_class=_Formatter)
    _globals(mcp, top=False)
    mcp_sub = mcp.add_subparsers(dest="mcp_command", metavar="MCP_COMMAND", required=True)
    p = _add(mcp_sub, "list", _lazy("mcp", "list_servers"),
             "start the configured MCP servers here and list their tools and status",
             "agentctl mcp list --workspace .")  # fmt: skip
    p.add_argument("--workspace", default=".", help="fills {workspace} in server commands")

    _add(sub, "acp", _lazy("acp", "serve"),
         "speak the Agent Client Protocol on stdio (for Zed and other ACP editors)",
         "agentctl acp   # in Zed: agent_servers.harness.command")  # fmt: skip


def _policy(sub: Any) -> None:
    pol = sub.add_parser("policy", help="trust or show a workspace's approval policy",
                         formatter_class=_Formatter)  # fmt: skip
    _globals(pol, top=False)
    pol_sub = pol.add_subparsers(dest="policy_command", metavar="POLICY_COMMAND", required=True)
    p = _add(pol_sub, "trust", _lazy("policy", "trust"),
             "trust the exact content of this workspace's config files (.harness/policy.toml, "
             "mcp.toml, models.toml, .env, .env.local): until then they may only narrow",
             "agentctl policy trust --workspace .\n  agentctl policy trust --file .harness/models.toml\n"
             "  agentctl policy trust --list")  # fmt: skip
    p.add_argument("--workspace", default=".", help="the repo (default: .)")
    p.add_argument("--file", action="append", metavar="NAME",
                   help="only this config file, e.g. .harness/policy.toml (repeatable; default: "
                   "every one present)")  # fmt: skip
    p.add_argument("--list", action="store_true",
                   help="list every trusted file (path, sha256, still current?) and exit")  # fmt: skip
    p = _add(pol_sub, "untrust", _lazy("policy", "untrust"),
             "forget the trust: the workspace's config files may only narrow again",
             "agentctl policy untrust --workspace .")  # fmt: skip
    p.add_argument("--workspace", default=".", help="the repo (default: .)")
    p.add_argument("--file", action="append", metavar="NAME",
                   help="only this config file (repeatable; default: all of them)")  # fmt: skip
    p = _add(pol_sub, "show", _lazy("policy", "show"),
             "the effective mode and rules for a workspace, with their sources and trust",
             "agentctl policy show --workspace .")  # fmt: skip
    p.add_argument("--workspace", default=".", help="the repo (default: .)")
    p.add_argument("--mode", default=None, help="as if run with this mode")


def _follow_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-input", action="store_true",
                   help="never prompt for approvals (default: prompt when stdin is a terminal)")  # fmt: skip
    p.add_argument(
        "--quiet", "-q", action="store_true", help="hide model text; steps and results only"
    )


def _answer_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--deny", action="store_true", help="deny instead of approve")
    p.add_argument("--note", help="a note for the record (and for the agent when denying)")
    p.add_argument("--similar", action="store_true",
                   help="also approve similar actions for the rest of this run/session")  # fmt: skip


def _sessions(sub: Any) -> None:
    s = sub.add_parser("session", help="chat and spec-mode sessions", formatter_class=_Formatter)
    _globals(s, top=False)
    ss = s.add_subparsers(dest="session_command", metavar="SESSION_COMMAND", required=True)
    p = _add(ss, "new", _lazy("sessions", "new"), "start a session; prints its id",
             "agentctl session new --workspace . --mode spec --spec specs/health/spec.md")  # fmt: skip
    p.add_argument("--workspace", default=".")
    p.add_argument("--mode", choices=["chat", "spec"], default=None, help="chat (default) or spec")
    p.add_argument("--spec", help="the spec a spec-mode session edits")
    p.add_argument("--model")
    p.add_argument("--title")

    p = _add(ss, "message", _lazy("sessions", "message"),
             "send a message and follow the reply until the turn ends",
             'agentctl session message --text "What does src/app.py do?" session_01H...')  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--text", "-m", help="the message ('-' = read stdin)")
    p.add_argument("--ref", action="append", default=[], metavar="attachments/NAME",
                   help="attachment ref from `session attach` (repeatable)")  # fmt: skip
    p.add_argument("--mime", help="media type of the attachment(s), e.g. image/png")
    p.add_argument("--no-follow", action="store_true", help="send and return (prints the turn id)")
    _follow_flags(p)

    p = _add(ss, "approve", _lazy("sessions", "approve"), "approve (or --deny) a session's tool call",
             "agentctl session approve --call call_01H... session_01H...")  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--call", required=True, metavar="TOOL_CALL_ID")
    _answer_flags(p)

    p = _add(ss, "attach", _lazy("sessions", "attach_file"),
             "upload a file for a later message; prints its ref",
             "agentctl session attach --file screenshot.png session_01H...")  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--file", required=True)
    p.add_argument("--mime", help="media type (default: guessed from the name and content)")

    p = _add(ss, "follow", _lazy("sessions", "follow_session"), "follow a session's live events (Ctrl-C stops)",
             "agentctl session follow session_01H...")  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--history", action="store_true", help="replay the whole conversation first")
    _follow_flags(p)

    p = _add(ss, "cancel", _lazy("sessions", "cancel"), "cancel the running turn",
             "agentctl session cancel session_01H...")  # fmt: skip
    p.add_argument("session_id")

    p = _add(ss, "list", _lazy("sessions", "list_sessions"), "list sessions, newest first",
             "agentctl session list")  # fmt: skip
    p.add_argument("--status", choices=["idle", "running", "closed", "interrupted"])
    p.add_argument("--limit", type=int, default=50)

    p = _add(ss, "export", _lazy("sessions", "export"), "download a session as a zip",
             "agentctl session export --out chat.zip session_01H...")  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--out")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from harness_ls import __version__

        print(f"agentctl {__version__}")
        return 0
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    from harness_ls.cli.app import run_command

    return run_command(args)


def debug() -> bool:
    return os.environ.get("HARNESS_DEBUG", "") not in ("", "0", "false")


if __name__ == "__main__":
    sys.exit(main())
