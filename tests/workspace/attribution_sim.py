"""A run simulated at the workspace level: agent tool calls wrapped in the same snapshot calls
the runtime makes, and the events they would log (no model, no daemon)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness_ls.workspace.checkpoints import FINAL, call_after, call_before, step_checkpoint

FILE_TOOLS = ("write_file", "edit")


def git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, *, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "user@example.com")
    git(path, "config", "user.name", "User")
    if commit:
        (path / "a.txt").write_text("one\ntwo\nthree\n")
        (path / ".gitignore").write_text("*.log\n")
        git(path, "add", ".")
        git(path, "commit", "-qm", "init")
    return path


class SimRun:
    def __init__(
        self, data: Path, ws: Path, run_id: str = "run_sim", max_file_bytes: int | None = None
    ):
        self.data, self.ws, self.run_id = data, ws, run_id
        self.events: list[Any] = []
        self.n = 0
        self.step = 0
        self.step_id = "st_0"
        self.kw = {} if max_file_bytes is None else {"max_file_bytes": max_file_bytes}

    def _ev(self, type_: str, data: dict[str, Any], call_id: str | None = None) -> None:
        self.events.append(
            SimpleNamespace(type=type_, data=data, call_id=call_id, step_id=self.step_id)
        )

    def start_step(self, n: int) -> None:
        self.step, self.step_id = n, f"st_{n}"
        d = step_checkpoint(self.data, self.ws, self.run_id, str(n), **self.kw)
        self._ev("checkpoint.created", {**d, "step": n})

    def call(
        self, fn: Callable[[Path], Any], tool: str = "shell", path: str | None = None, *,
        crash: bool = False,
    ) -> str:  # fmt: skip
        self.n += 1
        cid = f"call_{self.n}"
        self._ev("tool.call", {"name": tool, "arguments": {"path": path} if path else {}}, cid)
        before = call_before(self.data, self.ws, self.run_id, **self.kw)
        self._ev("checkpoint.before", {**before, "tool": tool}, cid)
        fn(self.ws)
        if not crash:
            # a file tool's footprint is its path (as the runtime's checkpoints.footprint gives it)
            paths = [path] if path and tool in FILE_TOOLS else None
            after = call_after(self.data, self.ws, self.run_id, before, paths=paths, **self.kw)
            self._ev("checkpoint.delta", {**after, "tool": tool}, cid)
        return cid

    def finish(self) -> None:
        d = step_checkpoint(self.data, self.ws, self.run_id, FINAL, **self.kw)
        self.events.append(
            SimpleNamespace(
                type="checkpoint.created", data={**d, "step": None}, call_id=None, step_id=None
            )
        )
