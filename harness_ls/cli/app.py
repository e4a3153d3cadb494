"""What every command gets: parsed args, styled output, the data dir and (lazily) the API client.

`run_command` is the one place that turns failures into a message and an exit status: CliError
and the core's HarnessError family print one line and a hint (or a JSON error document with
`--json`), Ctrl-C exits 130, anything else is reported as an internal error. `HARNESS_DEBUG=1`
adds the traceback.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError
from harness_ls.cli.render import Style
from harness_ls.cli.style import for_terminal


class App:
    def __init__(self, args: Any) -> None:
        self.args = args
        self.json: bool = bool(getattr(args, "json", False))
        self.style = Style.detect(no_color=bool(getattr(args, "no_color", False)))
        self._client: Any = None
        self._env_loaded: str | None = None

    # ---- environment ----------------------------------------------------------------------
    def load_env(self, *, models: bool = False) -> None:
        """.env.local then .env from the current dir (the real environment wins), with the one
        loader every host uses (harness_ls.config.load_env): HARNESS_URL, HARNESS_AUTH_TOKEN,
        model keys and HARNESS_MODEL for the local commands that resolve a model. `models` is
        kept for callers; every command now loads the same way."""
        if self._env_loaded:
            return
        self._env_loaded = "loaded"
        try:
            from harness_ls.config import load_env

            load_env(Path.cwd(), data_dir=self.data_dir, server=False, warn=_warn)
        except Exception:  # noqa: BLE001 - a broken .env must not stop the CLI; doctor reports it
            if debug():
                traceback.print_exc()

    @property
    def data_dir(self) -> Path:
        from harness_ls.config import data_dir

        return data_dir(getattr(self.args, "data_dir", None))

    @property
    def token(self) -> str | None:
        return self.token_source()[0]

    def token_source(self) -> tuple[str | None, str]:
        """(token, where from): --token-file, HARNESS_AUTH_TOKEN, else `<data_dir>/auth/token` —
        the file the daemon generated, readable by its owner only."""
        self.load_env()
        token_file = getattr(self.args, "token_file", None)
        if token_file:
            return read_token_file(Path(token_file).expanduser()), f"--token-file {token_file}"
        from harness_ls.auth_token import client_token

        return client_token(self.data_dir)

    def target(self) -> Any:
        from harness_ls.cli.client import discover

        self.load_env()
        return discover(getattr(self.args, "url", None), self.data_dir)

    def client(self) -> Any:
        if self._client is None:
            from harness_ls.cli.client import Client

            self._client = Client(self.target(), self.token)
        return self._client

    def other_clients(self) -> list[Any]:
        """Clients of the other live hosts (cli/client.py other_hosts), for what one host alone
        cannot answer: the approvals pending in each. The caller closes them."""
        from harness_ls.cli.client import Client, other_hosts

        return [Client(t, self.token) for t in other_hosts(self.client().target, self.data_dir)]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # ---- output ---------------------------------------------------------------------------
    def emit_json(self, doc: Any) -> None:
        print(json.dumps(doc, ensure_ascii=False, indent=2, default=str), flush=True)

    def out(self, text: str = "") -> None:
        print(for_terminal(text, sys.stdout), flush=True)

    def note(self, text: str) -> None:
        """Guidance for a person (stderr, so stdout stays the machine-usable result)."""
        if not self.json:
            print(for_terminal(self.style.dim(text), sys.stderr), file=sys.stderr, flush=True)


def debug() -> bool:
    return os.environ.get("HARNESS_DEBUG", "") not in ("", "0", "false")


def read_token_file(path: Path) -> str:
    """The first line of a token file; CliError saying what is wrong with it otherwise."""
    import stat

    try:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise CliError(f"cannot read --token-file {path}: {why}", exit_code=ex.USAGE,
                       hint="put the token on its first line (chmod 600)", code="usage") from None  # fmt: skip
    token = lines[0].strip() if lines else ""
    if not token:
        raise CliError(f"--token-file {path} is empty", exit_code=ex.USAGE,
                       hint="put the token on its first line", code="usage")  # fmt: skip
    try:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            print(f"agentctl: warning: {path} is readable by other users; run `chmod 600 {path}`",
                  file=sys.stderr, flush=True)  # fmt: skip
    except OSError:
        pass
    return token


def refuse_token_argument(args: Any) -> None:
    """`--token T` is refused for every command: a command line is public on this machine
    (/proc/<pid>/cmdline, `ps`), and an editor's `agentctl acp` would show it for hours."""
    if getattr(args, "token", None) is None:
        return
    raise CliError(
        "--token puts the token on the command line, where every user of this machine can "
        "read it (ps, /proc/<pid>/cmdline)",
        exit_code=ex.USAGE,
        hint="use --token-file FILE (first line, chmod 600) or set HARNESS_AUTH_TOKEN (also read "
        "from .env.local); as the daemon's own user you need neither: agentctl reads "
        "<data dir>/auth/token",
        code="token_on_command_line",
    )


def report_error(app: App | None, err: CliError) -> int:
    style = app.style if app is not None else Style(False)
    if app is not None and app.json:
        print(json.dumps({"error": err.to_dict()}, ensure_ascii=False, indent=2, default=str))
    lines = [f"agentctl: {style.red('error:')} {err.message}"]
    lines += [f"  {line}" for line in err.lines]
    if err.hint:
        lines.append(f"  {style.dim('hint:')} {err.hint}")
    print(for_terminal("\n".join(lines), sys.stderr), file=sys.stderr, flush=True)
    return err.exit_code


def run_command(args: Any) -> int:
    app: App | None = None
    try:
        app = App(args)
        refuse_token_argument(args)
        return int(args.handler(app) or 0)
    except CliError as err:
        if debug():
            traceback.print_exc()
        return report_error(app, err)
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return ex.DETACHED
    except BrokenPipeError:
        # `agentctl list | head`: the reader went away, which is not an error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return ex.OK
    except Exception as exc:  # noqa: BLE001 - the one place a bug becomes a clean message
        from harness_ls.errors import HarnessError

        if debug():
            traceback.print_exc()
        if isinstance(exc, HarnessError):
            return report_error(app, ex.from_harness(exc))
        return report_error(
            app,
            CliError(
                f"internal error: {type(exc).__name__}: {exc}",
                hint="rerun with HARNESS_DEBUG=1 for the traceback and report it",
                code="internal",
            ),
        )
    finally:
        if app is not None:
            app.close()


def _warn(message: str) -> None:
    print(f"agentctl: warning: {message}", file=sys.stderr)
