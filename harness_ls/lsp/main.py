"""`harness-ls`: the language server on stdio, plus `harness-ls check PATH...` for CI/pre-commit.

stdout is sacred: before the server starts, the real stdout fd is duplicated for LSP frames and
fd 1 is pointed at stderr, so a stray print() or a child process can never corrupt the stream;
likewise stdin moves to a private fd and fd 0 reads /dev/null, so nothing can consume LSP input.
Imports stay lazy so `--version` and `check` are quick and the server's cold start is small.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from harness_ls import __version__

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
EXIT_PROTOCOL = 1  # the client broke the LSP framing: exit so the editor restarts us
TTY_NOTE = (
    "harness-ls is a language server: it speaks LSP on stdin/stdout to an editor, which starts "
    "it (docs/editors/). Lint from a terminal with `harness-ls check specs/`; `harness-ls --help`"
    " for more. Ctrl-C quits."
)


def _parser() -> argparse.ArgumentParser:
    import argparse

    p = argparse.ArgumentParser(
        prog="harness-ls",
        description="Language server for harness-ls specs (LSP on stdio), and a spec checker.",
        epilog="examples:\n  harness-ls                  # serve LSP on stdio (what editors run)\n"
        "  harness-ls check specs/*/spec.md\n  harness-ls check --fix specs/login/spec.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"harness-ls {__version__}")
    p.add_argument(
        "--stdio",
        action="store_true",
        help="serve on stdio (the default; accepted for editors that pass it)",
    )
    p.add_argument(
        "--log-level",
        default=os.environ.get("HARNESS_LOG_LEVEL", "WARNING"),
        help="stderr log level",
    )
    sub = p.add_subparsers(dest="command")
    c = sub.add_parser("check", help="lint spec files: prints file:line:col: severity code message")
    c.add_argument(
        "paths",
        nargs="+",
        help="spec files or directories (directories: specs/**/spec.md and **/*.spec.md)",
    )
    c.add_argument("--fix", action="store_true", help="apply every preferred fix in place")
    c.add_argument(
        "--workspace",
        default=None,
        help="workspace whose .harness/spec.schema.json extends the schema",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given in ([], ["--stdio"]):  # what editors run: serve without loading argparse
        return serve(os.environ.get("HARNESS_LOG_LEVEL", "WARNING"))
    args = _parser().parse_args(argv)
    if args.command == "check":
        from harness_ls.lsp.check import run_check

        return run_check(args.paths, fix=args.fix, workspace=args.workspace)
    return serve(args.log_level)


def serve(log_level: str = "WARNING") -> int:
    from harness_ls.config import load_env
    from harness_ls.secrets import seal_environ

    if os.isatty(0):  # a person at a terminal, not an editor: say what this is (on stderr)
        print(TTY_NOTE, file=sys.stderr, flush=True)
    load_env()  # .env.local / .env of the directory the editor started us in, as every host
    seal_environ()  # keys and token now live only in memory: commands cannot read them from us
    lsp_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    lsp_in = os.dup(0)  # and stdin: no child process can read (steal) LSP input from fd 0
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, str(log_level).upper(), logging.WARNING),
        format="harness-ls %(levelname)s %(name)s: %(message)s",
    )
    from harness_ls.lsp.frames import FrameError
    from harness_ls.lsp.server import create_server
    from harness_ls.lsp.stdio import start_stdio

    server = create_server()
    try:
        start_stdio(server, lsp_in, lsp_out)
    except FrameError as exc:
        why = f"harness-ls: malformed LSP input from the client: {exc}; exiting so the editor can restart the server"
        print(why, file=sys.stderr, flush=True)
        return EXIT_PROTOCOL
    except MemoryError:
        print("harness-ls: the client sent a message too large to read; stopping", file=sys.stderr)
        return EXIT_PROTOCOL
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
