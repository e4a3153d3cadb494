"""shell: run a command in the workspace with a timeout, a capped output and a scrubbed environment.

The child gets its own process group so a timeout or a cancelled run kills everything it started
(test runners, servers), not just the shell. Provider keys and the harness auth token never reach
it: a command the model wrote must not be able to read or leak them. On Linux the command runs in
the sandbox (tools/sandbox.py) with a private TMPDIR removed after the call.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from pydantic import Field

from harness_ls.secrets import is_secret_name
from harness_ls.tools import sandbox
from harness_ls.tools.base import ActionPreview, Tool, ToolArgs, ToolContext, ToolResult
from harness_ls.tools.consent import shell_view

MAX_TIMEOUT = 3600.0
KILL_GRACE = 2.0

_QUIET_ENV = {"GIT_TERMINAL_PROMPT": "0", "PAGER": "cat", "GIT_PAGER": "cat", "NO_COLOR": "1"}


def scrub_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: `base` (default os.environ) minus anything that looks like a secret."""
    src = os.environ if base is None else base
    env = {k: v for k, v in src.items() if not is_secret_name(k)}
    env.update(_QUIET_ENV)
    return env


class ShellArgs(ToolArgs):
    command: str = Field(description="Shell command (bash -c) run in the workspace root.")
    timeout: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT,
        description="Seconds before the command is killed (default 120).",
    )


def _read_capped(fh, cap: int) -> tuple[str, int, int]:
    """Head and tail of the captured output within `cap` bytes: (text, total bytes, bytes cut)."""
    fh.seek(0, os.SEEK_END)
    total = fh.tell()
    fh.seek(0)
    if total <= cap:
        return fh.read().decode("utf-8", errors="replace"), total, 0
    half = cap // 2
    head = fh.read(half)
    fh.seek(total - half)
    tail = fh.read(half)
    nl = head.rfind(b"\n")
    if nl >= half * 4 // 5:  # cut at line ends when one is near
        head = head[: nl + 1]
    nl = tail.find(b"\n")
    if 0 <= nl <= half // 5:
        tail = tail[nl + 1 :]
    cut = total - len(head) - len(tail)
    text = (
        head.decode("utf-8", errors="replace").rstrip("\n")
        + f"\n[... {cut} bytes of output cut ...]\n"
        + tail.decode("utf-8", errors="replace")
    )
    return text, total, cut


def _shell() -> list[str]:
    bash = shutil.which("bash")
    return [bash, "-c"] if bash else ["/bin/sh", "-c"]


def _kill_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the whole group, then SIGKILL after a grace period."""
    _kill_group(proc, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), KILL_GRACE)
    except TimeoutError:
        pass
    _kill_group(proc, signal.SIGKILL)
    if proc.returncode is None:
        await proc.wait()


class Shell(Tool):
    name = "shell"
    kind = "shell"
    description = (
        "Run a shell command (bash -c) in the workspace root and return its exit code and combined "
        "stdout/stderr (long output keeps the beginning and the end). Default timeout 120 s."
    )
    Args = ShellArgs

    def _preview(self, ctx: ToolContext, args: ShellArgs) -> ActionPreview:
        timeout = args.timeout or ctx.shell_timeout
        return ActionPreview(
            kind="shell",
            summary=f"run `{shell_view(args.command).title}` in {ctx.workspace} "
            f"(timeout {timeout:g}s)",
            command=args.command,
        )

    async def _run(self, ctx: ToolContext, args: ShellArgs) -> ToolResult:
        timeout = args.timeout or ctx.shell_timeout
        started = time.monotonic()
        # output goes to a temp file, not a pipe: a background child keeping the pipe open
        # cannot hang the call, and memory stays bounded however much the command prints
        settings = ctx.extra.get("sandbox") or sandbox.load(ctx.workspace, ctx.data_dir)
        tmp = Path(
            os.path.realpath(tempfile.mkdtemp(prefix="harness-sh-"))
        )  # bwrap binds real paths
        env = scrub_env(ctx.env)
        env["TMPDIR"] = str(tmp)
        argv = sandbox.wrap(
            [*_shell(), args.command],
            workspace=ctx.workspace,
            tmpdir=tmp,
            settings=settings,
            data_dir=ctx.data_dir,
        )
        boxed = "off" if settings.mode == "off" else sandbox.kind()
        try:
            result = await self._exec(ctx, argv, env, limit=timeout, started=started)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        result.data["sandbox"] = boxed
        result.data["network"] = (
            settings.network
            or boxed in ("off", "none")
            or (boxed == "landlock" and sandbox.landlock() < 4)
        )
        return result

    async def _exec(
        self,
        ctx: ToolContext,
        argv: list[str],
        env: dict[str, str],
        *,
        limit: float,
        started: float,
    ) -> ToolResult:
        timeout = limit
        with tempfile.TemporaryFile() as out:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=ctx.workspace,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            timed_out = False
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                timed_out = True
                await _stop(proc)
            except BaseException:
                await asyncio.shield(_stop(proc))
                raise
            # the shell exited; children it left in the background must not outlive the call
            _kill_group(proc, signal.SIGKILL)
            output, total, cut = await asyncio.to_thread(_read_capped, out, ctx.output_cap)
        ms = round((time.monotonic() - started) * 1000, 1)
        code = proc.returncode
        data = {
            "exit_code": None if timed_out else code,
            "timed_out": timed_out,
            "duration_ms": ms,
            "output_bytes": total,
            "cut_bytes": cut,
        }
        if timed_out:
            head = f"timed out after {timeout:g}s (process group killed)"
            return ToolResult(
                ok=False, output=f"{head}\n{output}".rstrip(), data=data, error_code="timeout"
            )
        head = f"exit code {code}"
        return ToolResult(
            ok=code == 0,
            output=f"{head}\n{output}".rstrip(),
            data=data,
            error_code=None if code == 0 else "exit_code",
        )
