"""shell: run a command in the workspace with a timeout, a capped output and a scrubbed environment.

The child gets its own process group so a timeout, a cancelled run or too much output kills
everything it started (test runners, servers), not just the shell. Provider keys, the harness auth
token and the handles to the user's agents and session bus (`SSH_AUTH_SOCK`,
`DBUS_SESSION_BUS_ADDRESS`, `XDG_RUNTIME_DIR`...) never reach it. On Linux the command runs in the
sandbox (tools/sandbox.py) with a private TMPDIR removed after the call. Output is read from a pipe
into a head and a tail kept in memory — nothing spools to disk — and a command that prints more
than the policy's `output_limit_mb` is killed; its timeout is capped by the policy's
`timeout_max`, whatever the model asked for.
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

import harness_ls.tools.sandbox as sandbox
from harness_ls.secrets import is_secret_name
from harness_ls.tools.base import ActionPreview, Tool, ToolArgs, ToolContext, ToolResult
from harness_ls.tools.consent import shell_view

MAX_TIMEOUT = 3600.0
KILL_GRACE = 2.0
DRAIN = 0.5  # seconds to read what is left in the pipe once the command ended
CHUNK = 65536

_QUIET_ENV = {"GIT_TERMINAL_PROMPT": "0", "PAGER": "cat", "GIT_PAGER": "cat", "NO_COLOR": "1"}
# Handles to the user's session: agents, buses, displays, credential helpers and files. A command
# given one could sign as the user, unlock a keyring, or type into a terminal.
SESSION_VARS = frozenset(
    {"SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_ASKPASS", "GPG_AGENT_INFO", "GNUPGHOME",
     "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS", "XDG_RUNTIME_DIR", "KRB5CCNAME",
     "KRB5_KTNAME", "KRB5_CLIENT_KTNAME", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY",
     "WAYLAND_SOCKET", "PULSE_SERVER", "PULSE_COOKIE", "DOCKER_HOST", "DOCKER_CONFIG",
     "CONTAINER_HOST", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "TMUX",
     "TMUX_PANE", "STY", "SWAYSOCK", "I3SOCK", "HYPRLAND_INSTANCE_SIGNATURE", "KITTY_LISTEN_ON",
     "GIT_ASKPASS", "SUDO_ASKPASS", "VSCODE_IPC_HOOK", "VSCODE_IPC_HOOK_CLI", "VSCODE_GIT_IPC_HANDLE",
     "VSCODE_GIT_ASKPASS_NODE", "VSCODE_GIT_ASKPASS_MAIN", "GOOGLE_APPLICATION_CREDENTIALS",
     "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONFIG_FILE",
     "AZURE_CONFIG_DIR", "KUBECONFIG", "PASSWORD_STORE_DIR", "NETRC", "GH_CONFIG_DIR",
     "CLOUDSDK_CONFIG", "JOURNAL_STREAM", "INVOCATION_ID", "SYSTEMD_EXEC_PID", "MANAGERPID"}
)  # fmt: skip


def is_session_var(name: str) -> bool:
    return name in SESSION_VARS or name.startswith(("DBUS_", "XDG_RUNTIME", "KRB5", "SSH_AUTH"))


def scrub_env(base: dict[str, str] | None = None, *, session: bool = False) -> dict[str, str]:
    """The child's environment: `base` (default os.environ) minus anything that looks like a
    secret and, with `session` (every sandboxed command), the handles to the user's session
    (agents, buses, displays, credential files). Your own hooks keep the session: a desktop
    notification needs the bus."""
    src = os.environ if base is None else base
    env = {
        k: v
        for k, v in src.items()
        if not is_secret_name(k) and not (session and is_session_var(k))
    }
    env.update(_QUIET_ENV)
    return env


class ShellArgs(ToolArgs):
    command: str = Field(description="Shell command (bash -c) run in the workspace root.")
    timeout: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT,
        description="Seconds before the command is killed (default 120; the user's policy caps it).",
    )


class Capture:
    """What a command printed: the first and last `keep // 2` bytes, and how many in all."""

    def __init__(self, keep: int, limit: int) -> None:
        self.half = max(keep // 2, 1)
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    @property
    def full(self) -> bool:
        return self.total > self.limit

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > 2 * self.half:
                del self.tail[: len(self.tail) - self.half]

    def text(self) -> tuple[str, int]:
        """(text, bytes cut): head and tail, cut at line ends when one is near."""
        head, tail = bytes(self.head), bytes(self.tail[-self.half :])
        if self.total <= len(head) + len(tail):
            return (head + tail).decode("utf-8", errors="replace"), 0
        nl = head.rfind(b"\n")
        if nl >= self.half * 4 // 5:
            head = head[: nl + 1]
        nl = tail.find(b"\n")
        if 0 <= nl <= self.half // 5:
            tail = tail[nl + 1 :]
        cut = self.total - len(head) - len(tail)
        text = (
            head.decode("utf-8", errors="replace").rstrip("\n")
            + f"\n[... {cut} bytes of output cut ...]\n"
            + tail.decode("utf-8", errors="replace")
        )
        return text, cut


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


class _Drain:
    """Reads the command's output pipe on the event loop into a Capture. Not asyncio's own
    pipe: its `Process.wait()` waits for the pipe to close too, which a killed command's
    background child (unsandboxed modes) may never do."""

    def __init__(self, fd: int, out: Capture) -> None:
        self.fd, self.out = fd, out
        self.loop = asyncio.get_running_loop()
        self.eof, self.full = asyncio.Event(), asyncio.Event()
        os.set_blocking(fd, False)
        self.loop.add_reader(fd, self._ready)

    def _ready(self) -> None:
        for _ in range(16):  # at most 1 MiB per wake-up: a flood cannot starve the loop
            try:
                chunk = os.read(self.fd, CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
                self.eof.set()
                return
            self.out.add(chunk)
            if self.out.full:
                self.full.set()

    def close(self) -> None:
        if self.fd >= 0:
            self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1


DISK_FLOOR = 512 * 1024 * 1024  # free bytes a command may not take its disks below
DISK_EVERY = 0.25  # seconds between looks


async def _disk_low(paths: tuple[str, ...]) -> str:
    """Returns the first of `paths` whose filesystem has less than DISK_FLOOR free (and was
    above it when the call started: a disk already low is not the command's doing). A full disk
    would take the daemon's event logs and your other programs with it."""
    watched = [p for p in paths if _free(p) > DISK_FLOOR]
    while watched:
        await asyncio.sleep(DISK_EVERY)
        for path in watched:
            if _free(path) < DISK_FLOOR:
                return path
    await asyncio.Event().wait()  # nothing to watch: never done
    return ""


def _free(path: str) -> int:
    try:
        st = os.statvfs(path)
    except OSError:
        return 0
    return st.f_bavail * st.f_frsize


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def effective_timeout(ctx: ToolContext, args: ShellArgs, settings: sandbox.Settings) -> float:
    """The model's (or the run's default) timeout, capped by the user's `timeout_max`."""
    return min(args.timeout or ctx.shell_timeout, settings.timeout_max)


def _settings(ctx: ToolContext) -> sandbox.Settings:
    return ctx.extra.get("sandbox") or sandbox.load(ctx.workspace, ctx.data_dir)


class Shell(Tool):
    name = "shell"
    kind = "shell"
    description = (
        "Run a shell command (bash -c) in the workspace root and return its exit code and combined "
        "stdout/stderr (long output keeps the beginning and the end). Default timeout 120 s."
    )
    Args = ShellArgs
    scans_secrets = True

    def _preview(self, ctx: ToolContext, args: ShellArgs) -> ActionPreview:
        timeout = effective_timeout(ctx, args, _settings(ctx))
        return ActionPreview(
            kind="shell",
            summary=f"run `{shell_view(args.command).title}` in {ctx.workspace} "
            f"(timeout {timeout:g}s)",
            command=args.command,
        )

    async def _run(self, ctx: ToolContext, args: ShellArgs) -> ToolResult:
        settings = _settings(ctx)
        timeout = effective_timeout(ctx, args, settings)
        started = time.monotonic()
        tmp = Path(
            os.path.realpath(tempfile.mkdtemp(prefix="harness-sh-"))
        )  # bwrap binds real paths
        env = scrub_env(ctx.env, session=True)
        env["TMPDIR"] = str(tmp)
        box = sandbox.prepare(
            [*_shell(), args.command], workspace=ctx.workspace, tmpdir=tmp, settings=settings,
            data_dir=ctx.data_dir, env=env, reveal=ctx.may_read_secret,
        )  # fmt: skip
        env.update(box.env)
        try:
            result = await self._exec(ctx, box.argv, env, timeout, settings.output_limit, started,
                                      disks=(str(ctx.workspace), str(tmp)))  # fmt: skip
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            changed = box.guard.check() if box.guard is not None else None
        if args.timeout and args.timeout > timeout:
            result.output = f"(timeout capped at {timeout:g}s by your policy)\n{result.output}"
        if changed:
            result.ok, result.error_code = False, "protected_changed"
            result.output = f"refused: {changed.message()}\n{result.output}"
            result.data["protected_changed"] = [*changed.restored, *changed.lost, *changed.reported]
        result.data["sandbox"] = box.kind
        result.data["network"] = (
            settings.network
            or box.kind in ("off", "none")
            or (box.kind == "landlock" and sandbox.landlock() < 4)
        )
        if box.masked:
            result.data["masked"] = list(box.masked)
        return result

    async def _exec(
        self,
        ctx: ToolContext,
        argv: list[str],
        env: dict[str, str],
        seconds: float,
        limit: int,
        started: float,
        disks: tuple[str, ...] = (),
    ) -> ToolResult:
        # a pipe read here, not a file: nothing spools to disk however much the command prints;
        # background children holding the pipe open are given DRAIN seconds, then cut off
        read_end, write_end = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=ctx.workspace,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_end,
                stderr=write_end,
                start_new_session=True,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        out = Capture(ctx.output_cap, limit)
        drain = _Drain(read_end, out)
        waiter = asyncio.ensure_future(proc.wait())
        flooded = asyncio.ensure_future(drain.full.wait())
        low = asyncio.ensure_future(_disk_low(disks))
        timed_out = False
        try:
            try:
                async with asyncio.timeout(seconds):
                    await asyncio.wait({waiter, flooded, low}, return_when=asyncio.FIRST_COMPLETED)
            except TimeoutError:
                timed_out = True
            if timed_out or out.full or low.done():
                await _stop(proc)
        except BaseException:
            await asyncio.shield(_stop(proc))
            drain.close()
            raise
        finally:
            flooded.cancel()
            low.cancel()
        disk = low.result() if low.done() and not low.cancelled() else None
        # the shell exited; children it left in the background must not outlive the call
        _kill_group(proc, signal.SIGKILL)
        try:
            await asyncio.wait_for(drain.eof.wait(), DRAIN)
        except TimeoutError:
            pass
        drain.close()
        await waiter
        output, cut = out.text()
        ms = round((time.monotonic() - started) * 1000, 1)
        code = proc.returncode
        data = {
            "exit_code": None if timed_out or out.full or disk else code,
            "timed_out": timed_out,
            "duration_ms": ms,
            "output_bytes": out.total,
            "cut_bytes": cut,
        }
        if out.full:
            data["truncated"] = True
            head = (f"output truncated at {_size(limit)} (process group killed): the command "
                    "printed more than your policy's output_limit_mb allows")  # fmt: skip
            return ToolResult(ok=False, output=f"{head}\n{output}".rstrip(), data=data,
                              error_code="output_limit")  # fmt: skip
        if disk and not timed_out:
            head = (f"killed: less than {_size(DISK_FLOOR)} left on the disk of {disk} "
                    "(process group killed): free space there, then run it again")  # fmt: skip
            return ToolResult(ok=False, output=f"{head}\n{output}".rstrip(), data=data,
                              error_code="disk_low")  # fmt: skip
        if timed_out:
            head = f"timed out after {seconds:g}s (process group killed)"
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
