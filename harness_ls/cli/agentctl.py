"""`agentctl`: the command line client of harness-ls.

Run commands talk to a running host (agentd, or an editor's harness-ls) over its HTTP API; `init`,
`spec`, `diff`, `revert`, `checkpoints`, `context`, `mcp list` and `policy` call the core locally
and need no daemon.
This module only builds the parser: command modules are imported when their command runs, so
`agentctl --help` stays fast. How one command is declared (lazy handler, global flags, help
layout, shared flag groups) is cli/parsing.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from harness_ls.cli.parsing import (
    Formatter,
    add_command,
    answer_flags,
    follow_flags,
    global_flags,
    lazy,
)

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


WS_HELP = "the repo (default: the git repo holding this folder, else the folder itself)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentctl",
        description="Drive harness-ls runs, approvals and chat sessions from the terminal.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    global_flags(parser, top=True)
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
    p = add_command(sub, "init", lazy("local", "init"), "scaffold this git repo for spec-driven work",
                    "agentctl init --dry-run")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--force", action="store_true", help="overwrite existing files (with a backup)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.add_argument(
        "--with-schema", action="store_true", help="also write .harness/spec.schema.json"
    )

    spec = sub.add_parser("spec", help="create specs", formatter_class=Formatter)
    global_flags(spec, top=False)
    spec_sub = spec.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND", required=True)
    p = add_command(spec_sub, "new", lazy("local", "spec_new"), "write specs/<name>/spec.md from the template",
                    "agentctl spec new login")  # fmt: skip
    p.add_argument("name")
    p.add_argument("--workspace", help=WS_HELP)
    p = add_command(spec_sub, "prompt", lazy("local", "spec_prompt"),
                    "generate specs/<name>/spec.md from a prompt with the resolved model (offline: template)",
                    'agentctl spec prompt --prompt "Add a /health endpoint that returns ok" health')  # fmt: skip
    p.add_argument("name")
    p.add_argument("--prompt", help="what the spec is about")
    p.add_argument("--prompt-file", help="read the prompt from a file ('-' = stdin)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing spec")
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--model", help="model to use (default: HARNESS_MODEL / the resolver)")


def _run_commands(sub: Any) -> None:
    """Runs: start, attempts, follow, answer, export, list, cancel."""
    p = add_command(sub, "run", lazy("runs", "run"), "start a run from a spec; prints the run id",
                    "agentctl run --workspace . --spec specs/health/spec.md --follow")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument(
        "--spec", help="spec path, relative to the workspace (or to this folder inside it)"
    )
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
    follow_flags(p)

    at = sub.add_parser("attempts", help="parallel attempts: list, show, apply one, discard",
                        formatter_class=Formatter)  # fmt: skip
    global_flags(at, top=False)
    at_sub = at.add_subparsers(dest="at_command", metavar="ATTEMPTS_COMMAND")
    at.set_defaults(handler=lazy("attempts", "show"), attempts_id=None)
    p = add_command(at_sub, "show", lazy("attempts", "show"), "attempts side by side (default: all groups)",
                    "agentctl attempts show att_01H...")  # fmt: skip
    p.add_argument("attempts_id", nargs="?")
    p.add_argument("--wait", action="store_true", help="wait until every attempt has ended")
    p = add_command(at_sub, "apply", lazy("attempts", "apply"),
                    "apply attempt N to the work tree; the others are discarded",
                    "agentctl attempts apply att_01H... 2")  # fmt: skip
    p.add_argument("attempts_id")
    p.add_argument("attempt", type=int)
    p = add_command(at_sub, "discard", lazy("attempts", "discard"), "discard every attempt of a group",
                    "agentctl attempts discard att_01H...")  # fmt: skip
    p.add_argument("attempts_id")

    p = add_command(sub, "attach", lazy("runs", "attach"), "follow a run's live events until it ends (a session id: its turns)",
                    "agentctl attach run_01H...")  # fmt: skip
    p.add_argument("run_id")
    follow_flags(p)

    p = add_command(sub, "approve", lazy("runs", "approve"), "approve (or --deny) a run's pending step",
                    'agentctl approve --step st_01H... run_01H...   (or --deny --note "why")')  # fmt: skip
    p.add_argument("run_id")
    p.add_argument("--step", required=True, metavar="STEP_ID", help="the approval's step id")
    answer_flags(p)

    p = add_command(sub, "export", lazy("runs", "export"), "download a run as a zip",
                    "agentctl export --out run.zip run_01H...")  # fmt: skip
    p.add_argument("run_id")
    p.add_argument("--out", help="zip path (default: <run_id>.zip)")

    p = add_command(sub, "list", lazy("runs", "list_runs"), "list runs, newest first (alias: runs)",
                    "agentctl list --status waiting_approval", aliases=["runs"])  # fmt: skip
    p.add_argument("--status", choices=["created", "running", "waiting_approval", "completed",
                                        "failed", "cancelled", "interrupted"])  # fmt: skip
    p.add_argument("--limit", type=int, default=50)

    p = add_command(sub, "approvals", lazy("runs", "approvals"), "list pending approvals",
                    "agentctl approvals")  # fmt: skip

    p = add_command(
        sub, "cancel", lazy("runs", "cancel"), "cancel a run", "agentctl cancel run_01H..."
    )
    p.add_argument("run_id")


def _host_commands(sub: Any) -> None:
    """The host itself: doctor and the dashboard link."""
    p = add_command(sub, "doctor", lazy("doctor", "doctor"), "check the setup; each line has a fix",
                    "agentctl doctor")  # fmt: skip

    p = add_command(sub, "dashboard", lazy("dashboard", "dashboard"),
                    "open the dashboard, logged in (a one-time login link)",
                    "agentctl dashboard --print")  # fmt: skip
    p.add_argument("--print", action="store_true", dest="print_only",
                   help="print the one-time link instead of opening a browser")  # fmt: skip


def _change_commands(sub: Any) -> None:
    """What the agent changed: diff, revert, checkpoints."""
    p = add_command(sub, "diff", lazy("local", "diff"),
                    "exactly what the agent changed, per step and tool call (never your edits)",
                    "agentctl diff run_01H... --step 1 --stat")  # fmt: skip
    p.add_argument("run_id", help="a run id, or a chat session id (ses_...)")
    step = p.add_mutually_exclusive_group()
    step.add_argument("--step", type=int, help="only step N (numbered from 1, as attach shows)")
    step.add_argument("--call", metavar="TOOL_CALL_ID", help="only that tool call (call_...)")
    p.add_argument("--stat", action="store_true", help="file names and line counts only")
    p.add_argument("--workspace", help="the work tree (default: the run's workspace)")

    p = add_command(sub, "revert", lazy("local", "revert"),
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

    cp = sub.add_parser("checkpoints", help="manage checkpoints", formatter_class=Formatter)
    global_flags(cp, top=False)
    cp_sub = cp.add_subparsers(dest="cp_command", metavar="CHECKPOINTS_COMMAND", required=True)
    p = add_command(cp_sub, "gc", lazy("local", "checkpoints_gc"), "delete checkpoint refs of old runs",
                    "agentctl checkpoints gc --older-than 7d --dry-run")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--older-than", default="14d", help='age like "14d", "12h", "0s" (default 14d)')
    p.add_argument("--dry-run", action="store_true")


def _tool_commands(sub: Any) -> None:
    """Context, MCP servers and the ACP host."""
    p = add_command(sub, "context", lazy("local", "context"),
                    "print the ranked repo map + excerpts the agent would see",
                    "agentctl context --workspace . --spec specs/x/spec.md --budget 8000")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--spec", help="use this spec as the task")
    p.add_argument("--task", help="task text (instead of --spec)")
    p.add_argument("--budget", type=int, default=8000, help="token budget (default 8000)")
    p.add_argument("--explain", action="store_true",
                   help="print, per file shown, the ranking features that put it there")  # fmt: skip
    p.add_argument("--localize", action="store_true",
                   help="let the model pick files from the ranked map first, as a run does "
                        "(one short model request; needs a configured model)")  # fmt: skip
    p.add_argument("--model", help="model for --localize (default: the run's, as resolved)")

    mcp = sub.add_parser("mcp", help="MCP servers (tools from outside)", formatter_class=Formatter)
    global_flags(mcp, top=False)
    mcp_sub = mcp.add_subparsers(dest="mcp_command", metavar="MCP_COMMAND", required=True)
    p = add_command(mcp_sub, "list", lazy("mcp", "list_servers"),
                    "start the configured MCP servers here and list their tools and status",
                    "agentctl mcp list --workspace .")  # fmt: skip
    p.add_argument("--workspace", help="fills {workspace} in server commands; " + WS_HELP)

    add_command(sub, "acp", lazy("acp", "serve"),
                "speak the Agent Client Protocol on stdio (for Zed and other ACP editors)",
                "agentctl acp   # in Zed: agent_servers.harness.command")  # fmt: skip


def _policy(sub: Any) -> None:
    pol = sub.add_parser("policy", help="trust or show a workspace's approval policy",
                         formatter_class=Formatter)  # fmt: skip
    global_flags(pol, top=False)
    pol_sub = pol.add_subparsers(dest="policy_command", metavar="POLICY_COMMAND", required=True)
    p = add_command(pol_sub, "trust", lazy("policy", "trust"),
             "trust the exact content of this workspace's config files (.harness/policy.toml, "
             "mcp.toml, models.toml, .env, .env.local): until then they may only narrow",
             "agentctl policy trust --workspace .\n  agentctl policy trust --file .harness/models.toml\n"
             "  agentctl policy trust --list")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--file", action="append", metavar="NAME",
                   help="only this config file, e.g. .harness/policy.toml (repeatable; default: "
                   "every one present)")  # fmt: skip
    p.add_argument("--list", action="store_true",
                   help="list every trusted file (path, sha256, still current?) and exit")  # fmt: skip
    p = add_command(pol_sub, "untrust", lazy("policy", "untrust"),
             "forget the trust: the workspace's config files may only narrow again",
             "agentctl policy untrust --workspace .")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--file", action="append", metavar="NAME",
                   help="only this config file (repeatable; default: all of them)")  # fmt: skip
    p = add_command(pol_sub, "show", lazy("policy", "show"),
             "the effective mode and rules for a workspace, with their sources and trust",
             "agentctl policy show --workspace .")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--mode", default=None, help="as if run with this mode")


def _sessions(sub: Any) -> None:
    s = sub.add_parser("session", help="chat and spec-mode sessions", formatter_class=Formatter)
    global_flags(s, top=False)
    ss = s.add_subparsers(dest="session_command", metavar="SESSION_COMMAND", required=True)
    p = add_command(ss, "new", lazy("sessions", "new"), "start a session; prints its id",
             "agentctl session new --workspace . --mode spec --spec specs/health/spec.md")  # fmt: skip
    p.add_argument("--workspace", help=WS_HELP)
    p.add_argument("--mode", choices=["chat", "spec"], default=None, help="chat (default) or spec")
    p.add_argument("--spec", help="the spec a spec-mode session edits")
    p.add_argument("--model")
    p.add_argument("--title")

    p = add_command(ss, "message", lazy("sessions", "message"),
             "send a message and follow the reply until the turn ends",
             'agentctl session message --text "What does src/app.py do?" session_01H...')  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--text", "-m", help="the message ('-' = read stdin)")
    p.add_argument("--ref", action="append", default=[], metavar="attachments/NAME",
                   help="attachment ref from `session attach` (repeatable)")  # fmt: skip
    p.add_argument("--mime", help="media type of the attachment(s), e.g. image/png")
    p.add_argument("--no-follow", action="store_true", help="send and return (prints the turn id)")
    follow_flags(p)

    p = add_command(ss, "approve", lazy("sessions", "approve"), "approve (or --deny) a session's tool call",
             "agentctl session approve --call call_01H... session_01H...")  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--call", required=True, metavar="TOOL_CALL_ID")
    answer_flags(p)

    p = add_command(ss, "attach", lazy("sessions", "attach_file"),
             "upload a file for a later message; prints its ref",
             "agentctl session attach --file screenshot.png session_01H...")  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--file", required=True)
    p.add_argument("--mime", help="media type (default: guessed from the name and content)")

    p = add_command(ss, "follow", lazy("sessions", "follow_session"), "follow a session's live events (Ctrl-C stops)",
             "agentctl session follow session_01H...")  # fmt: skip
    p.add_argument("session_id")
    p.add_argument("--history", action="store_true", help="replay the whole conversation first")
    follow_flags(p)

    p = add_command(ss, "cancel", lazy("sessions", "cancel"), "cancel the running turn",
             "agentctl session cancel session_01H...")  # fmt: skip
    p.add_argument("session_id")

    p = add_command(ss, "list", lazy("sessions", "list_sessions"), "list sessions, newest first",
             "agentctl session list")  # fmt: skip
    p.add_argument("--status", choices=["idle", "running", "closed", "interrupted"])
    p.add_argument("--limit", type=int, default=50)

    p = add_command(ss, "export", lazy("sessions", "export"), "download a session as a zip",
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
