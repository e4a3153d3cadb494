"""`agentd`: the harness core behind the HTTP API, SSE streams and the dashboard — no editor.

Starts with no config and no model key (runs then plan offline and say so). Order matters: the
socket is bound *before* the core starts, so a second agentd on a busy port exits with one line
and never runs crash recovery over the first one's live runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import stat
import sys
import threading
import webbrowser
from pathlib import Path

from harness_ls.errors import HarnessError

DEFAULT_LISTEN = "127.0.0.1:8787"
MIN_TOKEN_LENGTH = 16


class UsageError(HarnessError):
    code = "usage"
    status = 400


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port`, `:port` (loopback) or `port` → (host, port)."""
    value = value.strip()
    host, port = "127.0.0.1", value
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or not value[end + 1 :].startswith(":"):
            raise UsageError(f"--listen {value!r}: expected [ipv6]:port")
        host, port = value[1:end], value[end + 2 :]
    elif ":" in value:
        host, port = value.rsplit(":", 1)
        host = host or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(
            f"--listen {value!r}: port must be a number 0-65535", hint="e.g. 127.0.0.1:8787"
        )
    return host, int(port)


def read_token(token_file: str | None) -> str | None:
    """The auth token: --token-file (first line) wins over HARNESS_AUTH_TOKEN; None when neither."""
    if token_file:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip().splitlines()[0].strip()
        except (OSError, IndexError, UnicodeDecodeError) as exc:
            reason = "it is empty" if isinstance(exc, IndexError) else getattr(exc, "strerror", exc)
            raise UsageError(
                f"cannot read the token from --token-file {path}: {reason}",
                hint="put the token on the first line, e.g. `python -c 'import secrets;"
                " print(secrets.token_urlsafe(32))' > FILE`",
            ) from None
        if not token:
            raise UsageError(
                f"--token-file {path} is empty", hint="put the token on the first line"
            )
        with contextlib.suppress(OSError):
            if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                warn(f"{path} is readable by other users; run `chmod 600 {path}`")
        return token
    from harness_ls.secrets import getenv

    token = (getenv("HARNESS_AUTH_TOKEN") or "").strip()
    return token or None


def warn(message: str) -> None:
    print(f"agentd: warning: {message}", file=sys.stderr, flush=True)


def load_env(data_dir: str | None = None) -> None:
    """.env.local then .env from the current dir (the real environment wins): the one loader
    every host uses (harness_ls.config.load_env); an untrusted file may only set provider keys
    and HARNESS_MODEL, and each refusal is a warning on stderr."""
    from harness_ls.config import data_dir as resolve_data_dir
    from harness_ls.config import load_env as load

    load(Path.cwd(), data_dir=resolve_data_dir(data_dir), server=True, warn=warn)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agentd",
        description="harness-ls daemon: HTTP API, live SSE streams and a dashboard for runs, "
        "approvals and sessions.",
    )
    p.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"address to serve (default {DEFAULT_LISTEN}; port 0 = any free port; "
        "unix:PATH = a Unix socket only you can connect to, for agentctl)",
    )
    p.add_argument("--data-dir", help="data dir (default $HARNESS_DATA_DIR or ~/.agent-harness)")
    p.add_argument(
        "--token-file",
        help="file whose first line is the auth token "
        "(default $HARNESS_AUTH_TOKEN, else a token generated once and kept in "
        "<data dir>/auth/token)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="extra Host name to answer for, e.g. mybox.tail1234.ts.net "
        "(repeatable; '*.example.com' patterns allowed)",
    )
    p.add_argument(
        "--no-auth",
        action="store_true",
        help="serve without a token (loopback only; every local user of this machine can then "
        "read your runs and answer approvals)",
    )
    p.add_argument("--open", action="store_true", help="open the dashboard in a browser")
    p.add_argument("--model", help="default model for runs (else HARNESS_MODEL / config)")
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        help="where runs execute: in this process (local, the default) or as Ray actors on a "
        "cluster (ray; needs pip install 'harness-ls[ray]'); else [executor] in config.toml",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to use (e.g. auto, 10.0.0.5:6379, ray://head:10001; implies "
        "--executor ray); without it --executor ray starts a local Ray beside agentd",
    )
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return p


async def serve(args: argparse.Namespace) -> int:
    from harness_ls.auth_token import host_token
    from harness_ls.config import data_dir as resolve_data_dir
    from harness_ls.config import ensure_data_dir
    from harness_ls.endpoints import remove_endpoint, write_endpoint
    from harness_ls.http.app import create_app
    from harness_ls.http.guards import is_loopback
    from harness_ls.http.server import bind_socket, bind_unix, format_url, start_server
    from harness_ls.private import loose_warning

    unix = args.listen.startswith("unix:")
    if unix:
        host, port = str(Path(args.listen[5:]).expanduser().absolute()), 0
        if not args.listen[5:]:
            raise UsageError(
                "--listen unix: needs a path", hint="e.g. --listen unix:/tmp/agentd.sock"
            )
    else:
        host, port = parse_listen(args.listen)
    if args.no_auth and not unix and not is_loopback(host):
        raise UsageError(
            f"--no-auth is only allowed on a loopback address, not {host}",
            hint="drop --no-auth (agentd then uses a token), or listen on 127.0.0.1 and use "
            "Tailscale Serve / Cloudflare Tunnel (see docs/remote-cockpit.md)",
        )
    data_dir = resolve_data_dir(args.data_dir)
    try:
        ensure_data_dir(data_dir)
    except OSError as exc:
        raise UsageError(f"cannot create the data dir {data_dir}: {exc.strerror}") from None
    if (loose := loose_warning(data_dir)) is not None:
        warn(loose)
    token, token_source = None, "--no-auth"
    if not args.no_auth:
        token, token_source = read_token(args.token_file), f"--token-file {args.token_file}"
        if token is None:
            try:
                token, token_source = host_token(data_dir)
            except OSError as exc:
                raise UsageError(
                    f"cannot create the auth token in {data_dir}: {exc.strerror or exc}",
                    hint="fix the data dir's permissions, or set HARNESS_AUTH_TOKEN",
                ) from None
    if token and len(token) < MIN_TOKEN_LENGTH:
        warn(f"the token is only {len(token)} characters; use 32+ random characters")
    if args.no_auth:
        warn(
            "--no-auth: every local user and process on this machine can read your runs, "
            "start sessions and answer approvals; use it only on a single-user machine"
        )
    allowed = list(args.allow_host)
    if host in ("0.0.0.0", "::") and not allowed:
        warn(
            "listening on all interfaces, but only loopback Host names are answered: add "
            "--allow-host <name-or-ip> for each name clients use (others get 421)"
        )
    if not unix and not is_loopback(host) and host not in ("0.0.0.0", "::"):
        allowed.append(host)

    # BindError → one line, exit 2; nothing else has started
    sock = bind_unix(Path(host)) if unix else bind_socket(host, port)
    from harness_ls.core import Harness

    harness = Harness(
        data_dir, model=args.model, executor=args.executor, ray_address=args.ray_address
    )
    await harness.start()
    if harness.executor is not None:
        print(f"agentd: runs execute on Ray ({args.ray_address or 'local cluster'})", flush=True)
    app = create_app(harness, token=token, allowed_hosts=allowed, kind="agentd")
    server = await start_server(app, host, port, sock=sock, log_level=args.log_level)
    url = f"unix:{host}" if unix else format_url(host, server.port)
    endpoint = None
    try:
        endpoint = write_endpoint(data_dir, url, "agentd")
    except OSError as exc:  # agentctl then needs --url; serving still works
        warn(f"cannot write the endpoint file in {data_dir / 'endpoints'}: {exc.strerror or exc}")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.request_stop)
    auth = f"token from {token_source}" if token else "NO AUTH: any local user can use it"
    if unix:
        print(f"agentd: API at {url}  (for agentctl; {auth}; data dir {data_dir})", flush=True)
    else:
        print(f"agentd: dashboard at {url}/  ({auth}; data dir {data_dir})", flush=True)
    link = f"{url}/"
    if token and not unix:  # a browser cannot open a Unix socket
        logins = app.state.settings.logins
        link = f"{url}/login#nonce={logins.new_nonce()}"
        print(
            f"agentd: log in to the dashboard with this one-time link (valid "
            f"{int(logins.link_ttl)} s; `agentctl dashboard` makes a new one):\n    {link}",
            file=sys.stderr,
            flush=True,
        )
    for name in args.allow_host:
        if "*" not in name:
            print(f"agentd: also answering for https://{name}/ (through your tunnel)", flush=True)
    if args.open:
        threading.Thread(target=webbrowser.open, args=(link,), daemon=True).start()
    try:
        await server.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        remove_endpoint(endpoint)
        if unix:
            with contextlib.suppress(OSError):
                Path(host).unlink()
        await server.stop()
        await harness.close()
    print("agentd: stopped", file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    load_env(args.data_dir)
    from harness_ls.secrets import seal_environ

    seal_environ()  # keys and token now live only in memory: commands cannot read them from us
    try:
        return asyncio.run(serve(args))
    except HarnessError as exc:
        print(f"agentd: {exc.one_line()}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
