"""Hooks: run the user's commands on events (approval needed, run finished, turn done) — how a
phone notification arrives without the dashboard open (Codex `notify`, Claude Code hooks).

Configured in the user's `<data dir>/config.toml` only (never from a workspace: a cloned repo
must not be able to run commands on your machine):

    [[hooks]]
    on = ["approval.requested", "run.completed", "run.failed"]
    command = ["/home/me/bin/notify", "--urgent"]   # argv; a string is split like a shell would
    timeout = 10                                      # seconds (default 10, at most 120)
    env = { NTFY_TOPIC = "my-harness" }               # extra environment for this hook

The command gets the event as one JSON document on stdin and is never run through a shell, so no
event field (a command the model asked for, a spec title) can be interpolated into a command
line. A hook that fails, hangs past its timeout (it is killed, with its process group) or cannot
start is a warning event (`log`, code `hook.failed`) on the stream that triggered it — never a
failed run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import signal
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness_ls.errors import InvalidInput

log = logging.getLogger("harness_ls.hooks")

HOOK_EVENTS = {
    "approval.requested": "approval.requested",
    "run.completed": "run.completed",
    "run.failed": "run.failed",
    "run.cancelled": "run.cancelled",
    "session.turn.completed": "turn.completed",
}
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 120.0
OUTPUT_CAP = 2000


@dataclass(frozen=True)
class Hook:
    on: frozenset[str]  # hook event names (HOOK_EVENTS keys)
    argv: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT
    env: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        return shlex.join(self.argv)[:200]


def config_path(data_dir: Path) -> Path:
    return Path(data_dir) / "config.toml"


def load_hooks(data_dir: Path) -> list[Hook]:
    """The `[[hooks]]` of the user config; InvalidInput naming the file and the bad entry."""
    path = config_path(data_dir)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path}: {exc}", hint="fix the TOML (see docs/hooks.md)") from None
    entries = raw.get("hooks", [])
    if not isinstance(entries, list):
        raise InvalidInput(f"{path}: hooks must be an array of tables ([[hooks]])")
    return [_hook(path, i, entry) for i, entry in enumerate(entries, 1)]


def _hook(path: Path, n: int, entry: Any) -> Hook:
    where = f"{path} [[hooks]] #{n}"
    if not isinstance(entry, dict):
        raise InvalidInput(f"{where}: expected a table")
    on = entry.get("on")
    on = [on] if isinstance(on, str) else on
    if not on or not isinstance(on, list) or not all(isinstance(x, str) for x in on):
        raise InvalidInput(f"{where}: `on` must list events", hint=_events_hint())
    unknown = [x for x in on if x not in HOOK_EVENTS]
    if unknown:
        raise InvalidInput(f"{where}: unknown event {unknown[0]!r}", hint=_events_hint())
    command = entry.get("command")
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise InvalidInput(f"{where}: command does not parse: {exc}") from None
    elif isinstance(command, list) and all(isinstance(x, str) for x in command):
        argv = list(command)
    else:
        argv = []
    if not argv:
        raise InvalidInput(
            f"{where}: `command` is missing", hint='e.g. command = ["notify-send", "harness"]'
        )
    timeout = entry.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int | float) or not 0 < timeout <= MAX_TIMEOUT:
        raise InvalidInput(f"{where}: timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}]")
    env = entry.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise InvalidInput(f"{where}: env must be a table of strings")
    return Hook(frozenset(on), tuple(argv), float(timeout), {str(k): v for k, v in env.items()})


def _events_hint() -> str:
    return "events: " + ", ".join(HOOK_EVENTS)


def hook_event(ev: Any) -> str | None:
    """The hook event name of a store event (None: no hook listens to this type)."""
    if ev.type == "turn.completed":
        return "session.turn.completed"
    return ev.type if ev.type in HOOK_EVENTS else None


def payload(name: str, ev: Any) -> dict[str, Any]:
    """What a hook reads on stdin: the event, plus a one-line message and how to answer."""
    d = ev.data or {}
    owner = ev.run_id or ev.session_id
    if name == "approval.requested":
        what = d.get("summary") or d.get("tool") or "an action"
        message = f"approval needed ({owner}): {what}"
    elif name == "session.turn.completed":
        message = f"session {owner}: turn {'done' if d.get('ok', True) else 'failed'}"
    else:
        message = f"run {owner} {name.split('.')[1]}: {d.get('outcome') or d.get('error') or ''}"
    out: dict[str, Any] = {
        "hook": name,
        "message": _one_line(message.strip()),
        "event": ev.model_dump(mode="json"),
    }
    if name == "approval.requested":
        aid = d.get("approval_id") or ev.step_id or ev.call_id
        out["answer"] = (
            f"agentctl approve --step {aid} {owner}"
            if ev.run_id
            else f"agentctl session approve --call {aid} {owner}"
        )
    return out


def _one_line(text: str) -> str:
    """The message as a phone or desktop notification shows it: model text (a path, an MCP tool
    name, an error) must not hide or reorder what it says with control or bidi characters, nor
    add lines of its own ("approved by you"); they become markers, as on every other surface."""
    from harness_ls.tools.reveal import reveal

    return reveal(text).replace("\n", "⟨LF⟩")


async def run_hook(hook: Hook, doc: dict[str, Any], cwd: Path) -> str | None:
    """Run one hook with `doc` on stdin; None on success, else what went wrong (one line)."""
    from harness_ls.tools.shell import scrub_env

    env = {**scrub_env(), **hook.env}
    try:
        proc = await asyncio.create_subprocess_exec(
            *hook.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=str(cwd),
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        return f"cannot start: {exc.strerror or exc}"
    data = json.dumps(doc).encode() + b"\n"
    try:
        out, _ = await asyncio.wait_for(proc.communicate(data), hook.timeout)
    except TimeoutError:
        _kill_group(proc.pid)
        await proc.communicate()  # reap it and close its pipes (the whole group is dead)
        return f"timed out after {hook.timeout:g} s (killed)"
    except asyncio.CancelledError:
        _kill_group(proc.pid)
        raise
    if proc.returncode != 0:
        tail = out.decode(errors="replace").strip()[-OUTPUT_CAP:]
        return f"exit {proc.returncode}" + (f": {tail.splitlines()[-1]}" if tail else "")
    return None


def _stamp(path: Path) -> tuple[int, int, int]:
    """What changes when the file does: (mtime ns, size, inode); zeros when it is absent."""
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class HookRunner:
    """Watches this process's events for one data dir and runs the matching hooks.

    The config is re-read whenever it changed on disk (checked on every event a hook could
    listen to), so hooks added or fixed while a daemon runs fire from the next event on — as
    MCP servers are re-read per run. A config that does not parse disables hooks until it is
    fixed, and says so (`error`, shown by `agentctl doctor` through the daemon).

    Events may be published from store threads: the runner hops to its own loop. Failures are
    recorded on the triggering stream (reopened when it is already closed, e.g. after
    `run.completed`), so they show wherever the run is watched.
    """

    def __init__(self, harness: Any, hooks: list[Hook] | None = None) -> None:
        self.harness = harness
        self.hooks: list[Hook] = list(hooks or [])
        self.error: str | None = None
        self._stamp: tuple[int, int, int] | None = (
            None if hooks is None else _stamp(config_path(harness.data_dir))
        )
        self.root = str(Path(harness.data_dir).resolve()) + os.sep
        self.loop = asyncio.get_running_loop()
        self.tasks: set[asyncio.Task[None]] = set()
        if hooks is None:
            self.refresh()

    def refresh(self) -> list[Hook]:
        """The hooks of the config as it is now (re-parsed only when the file changed)."""
        path = config_path(self.harness.data_dir)
        stamp = _stamp(path)
        if stamp == self._stamp:
            return self.hooks
        self._stamp = stamp
        try:
            self.hooks, self.error = load_hooks(self.harness.data_dir), None
        except InvalidInput as exc:
            self.hooks, self.error = [], exc.one_line()
            log.warning("hooks disabled: %s", self.error)
        return self.hooks

    def observe(self, key: str, ev: Any) -> None:
        if not key.startswith(self.root):
            return
        name = hook_event(ev)
        if name is None:
            return
        matching = [h for h in self.refresh() if name in h.on]
        if matching:
            self.loop.call_soon_threadsafe(self._spawn, name, ev, matching)

    def _spawn(self, name: str, ev: Any, hooks: list[Hook]) -> None:
        for hook in hooks:
            task = self.loop.create_task(self._run(name, ev, hook), name=f"hook:{name}")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _run(self, name: str, ev: Any, hook: Hook) -> None:
        problem = await run_hook(hook, payload(name, ev), Path(self.harness.data_dir))
        if problem is None:
            return
        message = f"hook `{hook.label()}` on {name} failed: {problem}"
        log.warning(message)
        await self._warn(ev, message)

    async def _warn(self, ev: Any, message: str) -> None:
        kind, owner = ("run", ev.run_id) if ev.run_id else ("session", ev.session_id)
        data = {"level": "warning", "code": "hook.failed", "message": message}
        store = self.harness.store
        try:
            shared = store.has_writer(kind, owner)  # the run/session is still writing: join it
            stream = store.stream(kind, owner)
            try:
                await stream.append("log", data)
            finally:
                if not shared:
                    await stream.close()
        except Exception as exc:  # noqa: BLE001 - the warning is best effort
            log.warning("could not record a hook failure on %s %s: %s", kind, owner, exc)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
