"""Parallel attempts: N independent runs of one spec, compared side by side, one applied.

Each attempt is an ordinary run that verifies itself with the spec's acceptance tests. On Ray
each is a worker standing on the same shipped tree (one bundle + patch in the object store for
all); without Ray each gets its own checkout (a clone of the user's HEAD plus their uncommitted
changes, in a private temp dir: never inside the data dir, which tools may not write) and runs in agentd's process. No attempt touches the
work tree: the user compares them (passed/failed, diff size, tokens) and applies one with
revert's three-way rule; then every checkout is removed and the others' checkpoint refs are
dropped, so nothing of them is left behind but their logs.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.errors import Conflict, InvalidInput, NotFound
from harness_ls.executor.apply import ApplyReport, apply_chains
from harness_ls.executor.transfer import materialize, pack_workspace
from harness_ls.private import private_dir, write_private
from harness_ls.store.ids import check_id, new_id
from harness_ls.workspace.checkpoints import REF_PREFIX
from harness_ls.workspace.shadow import Shadow, open_shadow

MAX_ATTEMPTS = 8
IN_FLIGHT = ("created", "running", "waiting_approval")


class AttemptGroup(BaseModel):
    id: str
    workspace: str
    spec_path: str
    executor: str  # "ray" | "local"
    runs: list[str] = []
    checkouts: list[str] = []  # local: the checkout of each attempt
    start_tree: str = ""  # the tree every attempt started from (in the workspace's shadow)
    applied: int | None = None  # the attempt applied (1-based)
    discarded: bool = False


class AttemptRow(BaseModel):
    """One attempt as every surface shows it."""

    attempt: int
    run_id: str
    status: str
    passed: bool
    tests: str  # "1/1", "0/1", "-"
    files: int = 0
    added: int = 0
    removed: int = 0
    tokens: int | None = None
    node: str | None = None
    model: str | None = None
    workspace: str | None = None  # the attempt's checkout (local) — look around in it


class AttemptsView(BaseModel):
    group: AttemptGroup
    rows: list[AttemptRow]
    done: bool


class AttemptBook:
    """The attempts of one harness (core.Harness owns one)."""

    def __init__(self, harness: Any) -> None:
        self.harness = harness
        self.dir = Path(harness.data_dir) / "attempts"

    # ---- starting ---------------------------------------------------------------------------
    async def start(
        self, workspace: Path, spec: str, count: int, models: list[str | None]
    ) -> AttemptsView:
        if not 2 <= count <= MAX_ATTEMPTS:
            raise InvalidInput(f"--attempts must be 2..{MAX_ATTEMPTS}, not {count}")
        h = self.harness
        gid = new_id("att")
        executor = h.executor.kind if h.executor is not None else "local"
        group = AttemptGroup(id=gid, workspace=str(workspace), spec_path=spec, executor=executor)
        shipment = await asyncio.to_thread(pack_workspace, h.data_dir, workspace, gid)
        group.start_tree = shipment.payload.tree
        shared = None
        for i in range(1, count + 1):
            model = models[(i - 1) % len(models)] if models else None
            tag = {"attempts": gid, "attempt": i, "of": count}
            if h.executor is not None:
                if shared is None:
                    shared = (await h.executor.backend()).put(shipment)
                meta = await h.start_run(
                    str(workspace), spec, model=model, attempt=tag, shipment=(shipment, shared)
                )
            else:
                # outside the data dir, which tools must never write into
                root = Path(tempfile.mkdtemp(prefix=f"harness-{gid}-{i}-"))
                ws = await asyncio.to_thread(materialize, shipment, root)
                _trust_like(h.data_dir, workspace, ws)
                group.checkouts.append(str(ws))
                meta = await h.start_run(str(ws), spec, model=model, attempt=tag)
            group.runs.append(meta.id)
            self._save(group)
        return self.view(gid)

    # ---- reading ----------------------------------------------------------------------------
    def _path(self, gid: str) -> Path:
        return self.dir / f"{check_id(gid, 'attempts id')}.json"

    def _save(self, group: AttemptGroup) -> None:
        private_dir(self.dir)
        write_private(self._path(group.id), group.model_dump_json(indent=1).encode())

    def load(self, gid: str) -> AttemptGroup:
        try:
            return AttemptGroup.model_validate_json(self._path(gid).read_text())
        except FileNotFoundError:
            raise NotFound(
                f"no attempts {gid!r}", hint="list them with `agentctl attempts`"
            ) from None

    def list(self) -> list[AttemptGroup]:
        try:
            names = sorted((p.stem for p in self.dir.glob("att_*.json")), reverse=True)
        except OSError:
            return []
        return [self.load(n) for n in names]

    def view(self, gid: str) -> AttemptsView:
        group = self.load(gid)
        rows = [self._row(group, i, rid) for i, rid in enumerate(group.runs, 1)]
        return AttemptsView(
            group=group, rows=rows, done=all(r.status not in IN_FLIGHT for r in rows)
        )

    def _row(self, group: AttemptGroup, i: int, run_id: str) -> AttemptRow:
        h = self.harness
        meta = h.get_run(run_id)
        evs = list(h.store.reader("run", run_id).read())
        verify = [e.data for e in evs if e.type == "verify.result"]
        last = max((v.get("attempt", 1) for v in verify), default=0)
        final = [v for v in verify if v.get("attempt", 1) == last]
        tests = f"{sum(bool(v.get('ok')) for v in final)}/{len(final)}" if final else "-"
        row = AttemptRow(
            attempt=i, run_id=run_id, status=meta.status, passed=meta.status == "completed",
            tests=tests, node=meta.node, model=meta.model,
            workspace=group.checkouts[i - 1] if group.checkouts else None,
        )  # fmt: skip
        end = next((e for e in reversed(evs) if e.type in ("run.completed", "run.failed")), None)
        usage = (end.data.get("usage") or {}) if end is not None else {}
        if usage.get("input_tokens") is not None:
            row.tokens = int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)
        tree, shadow = _final(evs)
        if tree and shadow and group.start_tree:
            try:
                row.files, row.added, row.removed = _numstat(
                    Shadow(Path(shadow), Path(group.workspace)), group.start_tree, tree
                )
            except Exception:  # noqa: BLE001 - a size is nice to have
                pass
        return row

    # ---- choosing ---------------------------------------------------------------------------
    async def apply(self, gid: str, attempt: int) -> ApplyReport:
        group = self.load(gid)
        if group.applied or group.discarded:
            raise Conflict(
                f"attempts {gid} are already {'applied' if group.applied else 'discarded'}"
            )
        if not 1 <= attempt <= len(group.runs):
            raise InvalidInput(f"attempt must be 1..{len(group.runs)}, not {attempt}")
        run_id = group.runs[attempt - 1]
        if self.harness.get_run(run_id).status in IN_FLIGHT:
            raise Conflict(
                f"attempt {attempt} ({run_id}) is still running", hint="wait for it to finish"
            )
        evs = list(self.harness.store.reader("run", run_id).read())
        tree, shadow = _final(evs)
        if not tree or not shadow:
            raise InvalidInput(f"attempt {attempt} recorded no final checkpoint: nothing to apply")
        ws = Path(group.workspace)
        report = await asyncio.to_thread(
            _apply_tree, self.harness.data_dir, ws, run_id, Path(shadow), group.start_tree, tree
        )
        stream = self.harness.store.stream("run", run_id)
        try:
            await stream.append("run.applied", {"ok": report.ok, "summary": report.summary(),
                                                "files": [f.model_dump() for f in report.files],
                                                "conflicts": [f.path for f in report.conflicts]})  # fmt: skip
        finally:
            await stream.close()
        group.applied = attempt
        await self._clear(group)
        return report

    async def discard(self, gid: str) -> AttemptGroup:
        group = self.load(gid)
        group.discarded = group.applied is None
        await self._clear(group)
        return group

    async def _clear(self, group: AttemptGroup) -> None:
        """Stop what still runs, remove every checkout, drop the others' checkpoint refs."""
        for rid in group.runs:
            if rid in self.harness.active_runs():
                await self.harness.cancel_run(rid)
        self._save(group)
        await asyncio.to_thread(self._remove, group)

    def _remove(self, group: AttemptGroup) -> None:
        from harness_ls.tools import trust
        from harness_ls.workspace.shadow import shadow_dir

        data = Path(self.harness.data_dir)
        for ws in group.checkouts:
            trust.untrust(data, trust.workspace_policy(Path(ws)))
            shutil.rmtree(shadow_dir(data, ws), ignore_errors=True)
            root = Path(ws)
            while root.name != "checkout" and root.parent != root:
                root = root.parent
            shutil.rmtree(root.parent if root.name == "checkout" else ws, ignore_errors=True)
        shutil.rmtree(self.dir / group.id, ignore_errors=True)
        shadow = open_shadow(data, group.workspace)
        for i, rid in enumerate(group.runs, 1):
            if i == group.applied:
                continue
            refs = shadow.out("for-each-ref", "--format=%(refname)", f"{REF_PREFIX}/{rid}/")
            for ref in filter(None, refs.splitlines()):
                shadow.run("update-ref", "-d", ref)


def _final(evs: list[Any]) -> tuple[str | None, str | None]:
    for e in reversed(evs):
        if e.type == "checkpoint.created" and e.data.get("name") == "final":
            return e.data.get("tree"), e.data.get("shadow")
    return None, None


def _numstat(shadow: Shadow, a: str, b: str) -> tuple[int, int, int]:
    out = shadow.out("diff-tree", "-r", "--numstat", "--no-renames", a, b)
    files = added = removed = 0
    for line in filter(None, out.splitlines()):
        plus, minus, _path = line.split("\t", 2)
        files += 1
        added += int(plus) if plus.isdigit() else 0
        removed += int(minus) if minus.isdigit() else 0
    return files, added, removed


def _apply_tree(
    data_dir: Path, ws: Path, run_id: str, source: Path, start: str, final: str
) -> ApplyReport:
    """Forward three-way of `start → final` onto the work tree (objects copied home first)."""
    home = open_shadow(data_dir, ws)
    if os.path.realpath(source) != os.path.realpath(home.git_dir):
        there = Shadow(source, ws)
        listed = there.run("rev-list", "--objects", final, "--not", start).stdout
        if listed.strip():
            home.run(
                "unpack-objects",
                "-q",
                input=there.run("pack-objects", "-q", "--stdout", input=listed).stdout,
            )
    home.commit(final, f"harness attempt {run_id}: final\n", f"{REF_PREFIX}/{run_id}/final")
    report = ApplyReport(run_id=run_id, shadow=str(home.git_dir))
    entries = home.changes(start, final)
    if not entries:
        return report
    return apply_chains(home, run_id, {e.path: [e] for e in entries}, report)


def _trust_like(data_dir: Path, original: Path, checkout: Path) -> None:
    """A checkout's workspace policy counts only if the user trusts the original's exact content."""
    from harness_ls.tools import trust

    if trust.workspace_trusted(original, data_dir):
        path = trust.workspace_policy(checkout)
        if path.is_file() and trust.digest(path.read_bytes()) == trust.digest(
            trust.workspace_policy(original).read_bytes()
        ):
            trust.trust(data_dir, path)


def summarize(view: AttemptsView) -> dict[str, Any]:
    """JSON-ready view (HTTP, agentctl --json)."""
    return json.loads(view.model_dump_json())
