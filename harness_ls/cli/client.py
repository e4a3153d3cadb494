"""The HTTP client of `agentctl`: where the daemon is, the token, and API errors as exit codes.

URL order: `--url`, `HARNESS_URL`, the newest endpoint file a live host (agentd, or an editor's
harness-ls) wrote in `<data_dir>/endpoints/`, else http://127.0.0.1:8787. When nothing answers the
error says where it looked and how to start a daemon.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError
from harness_ls.private import open_private

DEFAULT_URL = "http://127.0.0.1:8787"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0


@dataclass
class Target:
    """Where requests go and why (for error messages and `doctor`)."""

    url: str
    source: str  # "--url", "HARNESS_URL", "endpoint file <path>", "default"
    kind: str | None = None  # from the endpoint file: agentd | harness-ls
    pid: int | None = None  # from the endpoint file: the host's process
    looked: list[str] = field(default_factory=list)


def discover(url: str | None, data_dir: Path) -> Target:
    if url:
        return Target(url.rstrip("/"), "--url")
    env = os.environ.get("HARNESS_URL", "").strip()
    if env:
        return Target(env.rstrip("/"), "HARNESS_URL")
    from harness_ls.endpoints import endpoint_dir, live_endpoints

    folder = endpoint_dir(data_dir)
    try:
        live = live_endpoints(data_dir)
    except OSError:
        live = []
    if live:
        info = live[0]
        return Target(
            str(info["url"]).rstrip("/"),
            f"endpoint file {info.get('path')}",
            kind=info.get("kind"),
        )
    return Target(DEFAULT_URL, "default", looked=[f"no live endpoint file in {folder}"])


def other_hosts(first: Target, data_dir: Path) -> list[Target]:
    """The other live hosts of this data dir (newest first) when `first` came from an endpoint
    file: agentd and each editor's harness-ls hold the pending approvals of their own runs."""
    if not first.source.startswith("endpoint file"):
        return []  # --url / HARNESS_URL name the one host to talk to
    from harness_ls.endpoints import live_endpoints

    try:
        live = live_endpoints(data_dir)
    except OSError:
        return []
    return [
        Target(
            str(i["url"]).rstrip("/"),
            f"endpoint file {i.get('path')}",
            kind=i.get("kind"),
            pid=int(i["pid"]),
        )
        for i in live
        if str(i["url"]).rstrip("/") != first.url
    ]


def transport_args(url: str) -> dict[str, Any]:
    """httpx.Client arguments for `url`: `unix:/path` goes through the Unix socket."""
    if url.startswith("unix:"):
        return {"base_url": "http://localhost", "transport": httpx.HTTPTransport(uds=url[5:])}
    return {"base_url": url}


def start_hint() -> str:
    here = Path(sys.argv[0]).resolve().parent if sys.argv and sys.argv[0] else None
    agentd = "agentd"
    if here is not None and (here / "agentd").exists():
        agentd = str(here / "agentd")
    return f"start one with `{agentd}` (or open a spec in your editor with harness-ls)"


class Client:
    """A small synchronous httpx wrapper that raises CliError with the right exit code."""

    def __init__(self, target: Target, token: str | None) -> None:
        self.target = target
        self.token = token
        headers = {"x-harness-surface": "cli", "user-agent": "agentctl"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            **transport_args(target.url),
            headers=headers,
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            trust_env=False,
        )

    def close(self) -> None:
        self.http.close()

    # ---- errors ---------------------------------------------------------------------------
    def unreachable(self, exc: BaseException | None = None) -> CliError:
        where = f"{self.target.url} (from {self.target.source}"
        where += f"; {'; '.join(self.target.looked)})" if self.target.looked else ")"
        reason = f": {_reason(exc)}" if exc is not None else ""
        return CliError(  # one line: where it looked, why, and how to start one
            f"cannot reach the harness daemon at {where}{reason}; {start_hint()}",
            exit_code=ex.UNREACHABLE,
            code="unreachable",
        )

    def api_error(self, response: httpx.Response) -> CliError:
        try:
            body = response.json().get("error") or {}
        except (ValueError, AttributeError):
            body = {}
        status = response.status_code
        code = body.get("code") or f"http_{status}"
        message = body.get("message") or f"HTTP {status} from {response.request.url.path}"
        if status == 401:
            if self.token:
                return CliError(
                    f"token rejected by {self.target.url}",
                    exit_code=ex.TOKEN_REJECTED,
                    hint="check --token-file / HARNESS_AUTH_TOKEN / <data dir>/auth/token against the "
                    "daemon's token (a daemon of another user, or another --data-dir?)",
                    code="token_rejected",
                )
            return CliError(
                f"the daemon at {self.target.url} requires a token",
                exit_code=ex.TOKEN_REJECTED,
                hint="pass --token-file or set HARNESS_AUTH_TOKEN (the daemon's owner finds it in "
                "<data dir>/auth/token)",
                code="token_required",
            )
        return CliError(
            message,
            exit_code=ex.exit_code_for(code, status),
            hint=body.get("hint"),
            code=code,
            details=body.get("details"),
        )

    # ---- requests -------------------------------------------------------------------------
    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kw)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self.unreachable(exc) from None
        except httpx.TransportError as exc:
            raise CliError(
                f"the daemon at {self.target.url} stopped answering ({type(exc).__name__})",
                exit_code=ex.UNREACHABLE,
                hint="check that it is still running (`agentctl doctor`)",
                code="unreachable",
            ) from None
        if response.status_code >= 400:
            raise self.api_error(response)
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw).json()

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        response = self.request("POST", path, json=json, **kw)
        return response.json() if response.content else None

    def download(self, path: str, out: Path) -> int:
        """Stream a file response into `out` (via a temp file); returns the byte count.

        The file is created 0600: an export holds code, diffs and command output."""
        tmp = out.with_name(f".{out.name}.part")
        try:
            with self.http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self.api_error(response)
                size = 0
                with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as fh:
                    for chunk in response.iter_bytes():
                        fh.write(chunk)
                        size += len(chunk)
            os.replace(tmp, out)
            return size
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self.unreachable(exc) from None
        except OSError as exc:
            raise CliError(
                f"cannot write {out}: {exc.strerror or exc}", exit_code=ex.USAGE
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    def stream_events(self, path: str, after: int) -> Iterator[tuple[str | None, str, str]]:
        """(id, event, data) SSE frames from `path`, resuming after seq `after`."""
        headers = {"last-event-id": str(after)} if after else {}
        with self.http.stream("GET", path, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                raise self.api_error(response)
            yield from parse_sse(response.iter_lines())


def _reason(exc: BaseException) -> str:
    """'connection refused' rather than a class name, when the exception says so."""
    text = str(exc).strip()
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str | None, str, str]]:
    """Frames (id, event, data) from `text/event-stream` lines; keep-alive comments are skipped."""
    from harness_ls.http.sse_client import SSEParser  # pure parser: no server code is imported

    parser = SSEParser()
    for line in lines:
        if (msg := parser.feed(line)) is not None:
            yield msg.id, msg.event, msg.data
