"""Calls held for the user for the rest of a run (or chat session), even where a rule allows
them: a call the user denied, and a call whose earlier attempt was interrupted with unknown
effects (agent/replay.py). A hold never wears off by being asked once: every identical repeat
asks again, and a fresh approval runs only that one attempt.

Identical means the same tool and the same arguments after normalization (`identity`):

- arguments as the tool validates them (defaults filled in, key order ignored);
- `timeout` left out: it bounds a call, it does not change what the call does;
- a `path` (or `paths`) relative to the workspace and normalized (`./a//b`, `/ws/a/b` -> `a/b`);
- a shell `command` by its words (`ls  -la` = `ls -la`; `echo 'a b'` != `echo a b`).

The holds are rebuilt from the log (`holds_from_log`) when a run resumes or a session's next
turn starts, so a denial or an interruption outlives a daemon restart.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.store.recover import INTERRUPTED

UNKNOWN = "interrupted: effects unknown"
REASK = "interrupted: effects unknown (the daemon stopped while this call ran); run it again?"
DENIED = "you denied this identical call earlier in this {owner}; run it now?"
_IGNORED = frozenset({"timeout"})


def identity(tool: str, args: BaseModel | dict[str, Any] | None, workspace: Path | None) -> str:
    """The normalized (tool, arguments) that decides whether two calls are the same call."""
    data = args.model_dump() if isinstance(args, BaseModel) else dict(args or {})
    norm: dict[str, Any] = {}
    for key, value in data.items():
        if key in _IGNORED:
            continue
        if key == "path" and isinstance(value, str):
            value = _norm_path(value, workspace)
        elif key == "paths" and isinstance(value, list):
            value = [_norm_path(v, workspace) if isinstance(v, str) else v for v in value]
        elif key == "command" and isinstance(value, str):
            value = _norm_command(value)
        norm[key] = value
    try:
        text = json.dumps(norm, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(sorted(norm.items()))
    return f"{tool.strip()}:{text}"


def _norm_path(path: str, workspace: Path | None) -> str:
    if workspace is not None and path.startswith("/"):
        root = str(workspace).rstrip("/") + "/"
        path = path[len(root) :] if path.startswith(root) else path
    out = posixpath.normpath(path) if path else "."
    return out.removeprefix("./") if out != "/" else out


def _norm_command(command: str) -> str:
    try:
        return shlex.join(shlex.split(command))
    except ValueError:  # unbalanced quotes: compare by whitespace-separated words
        return " ".join(command.split())


@dataclass
class CallHolds:
    """identity -> why it must ask; `unknown` (interrupted) is named before `denied`."""

    unknown: dict[str, str] = field(default_factory=dict)
    denied: dict[str, str] = field(default_factory=dict)

    def reason(self, key: str) -> str | None:
        return self.unknown.get(key) or self.denied.get(key)

    def interrupted(self, key: str, why: str = REASK) -> None:
        self.unknown[key] = why

    def deny(self, key: str, owner: str = "run") -> None:
        self.denied[key] = DENIED.format(owner=owner)

    def apply(self, key: str, decision: Any) -> tuple[Any, str | None]:
        """The decision for a call with this identity: an `allow` becomes `ask` while it is
        held (naming why); deny and ask stand. Returns (decision, the hold's reason)."""
        why = self.reason(key)
        if why and getattr(decision, "action", None) == "allow":
            rule = f"held: {why} (else allowed by {decision.rule})"
            decision = decision.model_copy(update={"action": "ask", "rule": rule})
        return decision, why


class HeldPolicy:
    """A policy whose `allow` turns into `ask` for held calls (verify's acceptance tests use the
    same policy object as the agent's calls, so a denied command stays denied there too)."""

    def __init__(self, policy: Any, holds: CallHolds, workspace: Path | None) -> None:
        self.policy, self.holds, self.workspace = policy, holds, workspace

    def decide(self, tool: str, args: Any) -> Any:
        decision = self.policy.decide(tool, args)
        return self.holds.apply(identity(tool, args, self.workspace), decision)[0]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.policy, name)


def holds_from_log(
    events: Iterable[Any],
    workspace: Path,
    tools: dict[str, Any],
    *,
    owner: str = "run",
    load: Callable[[Any], dict[str, Any]] | None = None,
    applied: Callable[[str, dict[str, Any]], bool] | None = None,
) -> CallHolds:
    """What a log says must still ask: calls the user refused, calls whose attempt was
    interrupted after it started (reads and writes already `applied` excepted: nothing to
    repeat), acceptance tests the user denied."""
    holds = CallHolds()
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {}  # call id -> (identity, kind, args)
    for ev in events:
        data = load(ev) if load is not None and "$artifact" in ev.data else ev.data
        if ev.type == "tool.call" and ev.call_id:
            name = str(data.get("name") or "")
            args = data.get("arguments") if isinstance(data.get("arguments"), dict) else {}
            calls[ev.call_id] = (
                logged_identity(tools, name, args, workspace),
                str(data.get("kind")),
                args,
            )
        elif ev.type == "tool.refused" and ev.call_id in calls and data.get("rule") == "user":
            holds.deny(calls[ev.call_id][0], owner)
        elif ev.type == "tool.result" and ev.call_id in calls:
            key, kind, args = calls[ev.call_id]
            started = (data.get("data") or {}).get("started")
            if data.get("error_code") == INTERRUPTED and started and kind != "read":
                name = key.split(":", 1)[0]
                if applied is None or not applied(name, args):
                    holds.interrupted(key)
        elif ev.type == "verify.result" and _user_refused(data.get("refused")):
            holds.deny(
                logged_identity(tools, "shell", {"command": data.get("command", "")}, workspace),
                owner,
            )
    return holds


def _user_refused(why: Any) -> bool:
    """A verify result refused by a person (not by a deny rule)."""
    return (
        isinstance(why, str)
        and why.startswith("denied by ")
        and not why.startswith("denied by policy")
    )


def logged_identity(tools: dict[str, Any], name: str, args: dict[str, Any], workspace: Path) -> str:
    """The identity of a logged call, its arguments validated as the gate validated them."""
    tool = tools.get(name)
    if tool is not None:
        try:
            return identity(name, tool.Args.model_validate(args), workspace)
        except Exception:  # noqa: BLE001 - invalid arguments never ran: compare them raw
            pass
    return identity(name, args, workspace)
