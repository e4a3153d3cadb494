"""What the agent changed, as text: per step and per tool call, or one combined diff.

Computed from the run's change set (changeset.py), so it shows only the agent's deltas; files
the user changed in between are listed by name and never shown as the agent's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from harness_ls.workspace.changeset import RunChanges, load_changes
from harness_ls.workspace.shadow import Shadow, object_id
from harness_ls.workspace.snapshot import DEFAULT_MAX_FILE_BYTES

_DIFF = ("--no-color", "--no-ext-diff", "--no-textconv", "--no-renames")
# A blob larger than a snapshot holds (only a remote worker's tree can have one: 60 MB of text
# packs into kilobytes) diffs as binary: its text was read whole into the daemon's memory.
_BIG = ("-c", f"core.bigFileThreshold={DEFAULT_MAX_FILE_BYTES}")


class CallDiff(BaseModel):
    call_id: str
    tool: str
    step: str
    complete: bool
    paths: list[str]
    text: str
    uncertain: list[str] = []


class RunDiff(BaseModel):
    run_id: str
    step: int | None
    calls: list[CallDiff] = []
    user_paths: list[str] = []  # changed by someone else during the run: not the agent's
    ignored: list[str] = []  # git-ignored paths shell calls wrote: listed, not tracked
    owner: str = "run"  # or "session": a chat session has no plan steps

    def render(self, stat: bool = False) -> str:
        lines: list[str] = []
        current = None
        for c in self.calls:
            if c.step != current and self.owner == "run":
                current = c.step
                lines.append(f"### step {c.step}")
            flag = "" if c.complete else "  (unfinished call: end inferred from the next snapshot)"
            lines.append(f"## call {c.call_id} ({c.tool}){flag}")
            lines.append(c.text.rstrip("\n") if c.text.strip() else "   (no diff recorded)")
            if c.uncertain:
                lines.append("   owner unknown, not claimed: " + ", ".join(c.uncertain))
        if self.ignored:
            lines.append("")
            lines.append(
                "ignored by git, not tracked — written by a shell command; diff and revert do "
                "not cover them:"
            )
            lines += [f"  {p}" for p in self.ignored]
        if self.user_paths:
            lines.append("")
            lines.append(
                f"changed by you (or another program) during the {self.owner} — not the agent's, "
                "diff and revert leave them alone:"
            )
            lines += [f"  {p}" for p in self.user_paths]
        return "\n".join(lines) + ("\n" if lines else "")


def run_diff(
    data_dir: str | os.PathLike[str],
    workspace: str | os.PathLike[str],
    run_id: str,
    events: Iterable[Any],
    step: int | None = None,
    *,
    stat: bool = False,
    call: str | None = None,
) -> RunDiff:
    """The agent's changes per call (whole run, step N, or one call) and the user's paths in
    between."""
    changes = load_changes(data_dir, workspace, run_id, events)
    out = RunDiff(run_id=run_id, step=step, owner="session" if run_id.startswith("ses") else "run")
    scope = changes.in_scope(step, call)
    if not changes.shadow_dir:
        return out
    shadow = changes.shadow()
    mode = ("--stat=100",) if stat else ("-p",)
    for c in scope:
        if not c.files and not c.uncertain:
            continue  # a call that changed nothing (a test run, a read-only command)
        paths = [f.path for f in c.files]
        text = ""
        if paths and c.after:
            a, b = object_id(c.before, "tree"), object_id(c.after, "tree")
            text = shadow.run(
                *_BIG, "diff-tree", "-r", *mode, *_DIFF, a, b, "--", *paths
            ).stdout.decode(errors="replace")
        out.calls.append(
            CallDiff(
                call_id=c.call_id,
                tool=c.tool,
                step=changes.step_name(c.step_id),
                complete=c.complete,
                paths=paths,
                text=text,
                uncertain=c.uncertain,
            )  # fmt: skip
        )
    out.ignored = sorted(
        {p for c in scope for p in c.ignored}
        - {p for c in scope for p in (f.path for f in c.files)}
    )
    agent = set(changes.agent_paths())
    out.user_paths = [p for p in changes.user_paths() if p not in agent]
    return out


def _tree_of(shadow: Shadow, entries: dict[str, tuple[str, str]]) -> str:
    """A tree holding exactly `entries` (path -> (blob, mode)), via a throwaway index."""
    name = f"combined{os.getpid()}"
    try:
        info = "".join(f"{mode} {sha}\t{path}\n" for path, (sha, mode) in sorted(entries.items()))
        shadow.run("read-tree", "--empty", index=name)
        if info:
            shadow.run("update-index", "--index-info", index=name, input=info.encode())
        return shadow.out("write-tree", index=name)
    finally:
        shadow.index_path(name).unlink(missing_ok=True)


def combined_diff(changes: RunChanges, *, include_bookkeeping: bool = False) -> str:
    """One diff of the agent's files: content before its first change → after its last one.
    The harness's bookkeeping files (the diagram hash manifest) only when a tool call wrote them."""
    if not changes.shadow_dir or not changes.calls:
        return ""
    shadow = changes.shadow()
    chains = changes.chains(changes.calls)
    keep = set(changes.agent_paths(include_bookkeeping=include_bookkeeping))
    before: dict[str, tuple[str, str]] = {}
    after: dict[str, tuple[str, str]] = {}
    for path, chain in chains.items():
        if path not in keep:
            continue
        if chain[0].before:
            before[path] = (chain[0].before, chain[0].before_mode or "100644")
        if chain[-1].after:
            after[path] = (chain[-1].after, chain[-1].after_mode or "100644")
    a, b = _tree_of(shadow, before), _tree_of(shadow, after)
    if a == b:
        return ""
    return shadow.run(*_BIG, "diff-tree", "-r", "-p", *_DIFF, a, b).stdout.decode(errors="replace")


def combined_run_diff(
    data_dir: str | os.PathLike[str],
    workspace: str | os.PathLike[str],
    run_id: str,
    events: Iterable[Any],
) -> str:
    return combined_diff(load_changes(data_dir, workspace, run_id, events))
