"""agentd's side of a remote run: one task that follows the worker and keeps the one log.

`RemoteRun.follow` pulls the worker's outbox (a long poll that also acknowledges what was
handled) and, per message: appends the event under the worker's id — skipped when the log
already has that id, so a message delivered twice is written once — after storing the objects
its checkpoint names; asks the broker for an approval and sends the answer back; makes a model
call with agentd's keys and streams it back. The run's end is brought home (apply.py) before the
terminal event is appended. Cancelling the task cancels the run on the worker; "shutdown" leaves
the worker running for the next agentd to re-attach; a lost node makes the run `interrupted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from harness_ls.agent.runhandle import RunHandle
from harness_ls.executor import inbound
from harness_ls.executor.apply import apply_to_branch, apply_to_worktree
from harness_ls.executor.relay import error_dict
from harness_ls.executor.transfer import receive_objects
from harness_ls.workspace.changeset import full_events
from harness_ls.workspace.shadow import open_shadow

log = logging.getLogger("harness_ls.executor")

PULL_WAIT = 1.0  # seconds one long poll may wait for news
QUEUED_NOTE_AFTER = 2.0  # seconds without a node before the run says it is waiting for one
CANCEL_GRACE = 15.0  # after this the worker is killed and the cancel recorded here
HOME = ("run.completed", "run.failed", "run.cancelled")  # ends after which the result comes home


class ApprovalStream:
    """The run's stream as the broker writes to it: an approval asked again after a re-attach
    is not logged twice, and a detaching agentd records nothing about approvals it drops."""

    def __init__(self, stream: Any, requested: set[str]) -> None:
        self.stream = stream
        self.requested = requested
        self.muted = False

    async def append(self, type: str, data: Any = None, **ids: Any) -> Any:
        if self.muted:
            return None
        if type == "approval.requested":
            if data.get("approval_id") in self.requested:
                return None
            self.requested.add(data.get("approval_id"))
        return await self.stream.append(type, data, **ids)


class RemoteRun(RunHandle):
    """One run executing as a worker, seen from agentd."""

    def __init__(
        self, harness: Any, backend: Any, run_id: str, workspace: Path, *, resolved: Any = None,
        branch: bool = False, head: str | None = None, start_tree: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(harness, run_id, workspace)
        self.backend = backend
        self.resolved = resolved
        self.branch = branch
        self.head = head
        self.start_tree = start_tree
        self.actor: Any = None
        self.node: str | None = None
        self.node_id: str | None = None
        self.seen: set[str] = set()
        self.resolved_answers: dict[str, dict[str, Any]] = {}
        self.ended = False
        self.placed = False  # the worker answered `start`
        self.lost = False  # the worker (or its node) died
        self.n = 0  # outbox messages handled (acknowledged with the next pull)
        self.handled: set[str] = set()  # approval / model requests already taken on
        self.hold = False  # attempts: the result stays away until the user picks one
        self.helpers: dict[str, asyncio.Task[Any]] = {}
        self.approvals: ApprovalStream | None = None

    # ---- opening ----------------------------------------------------------------------------
    def open(self) -> None:
        """Take the run's writer and learn what the log already holds (ids, approvals)."""
        self.open_stream()
        requested: set[str] = set()
        for ev in self.stream.read():
            self.seen.add(ev.id)
            aid = (ev.data or {}).get("approval_id")
            if ev.type == "approval.requested" and aid:
                requested.add(aid)
            elif ev.type == "approval.resolved" and aid:
                self.resolved_answers[aid] = {
                    k: ev.data.get(k)
                    for k in ("decision", "surface", "note", "scope")
                    if ev.data.get(k)
                }
        self.approvals = ApprovalStream(self.stream, requested)

    # ---- following --------------------------------------------------------------------------
    async def follow(self, started: Any = None, *, reattached: bool = False) -> None:
        try:
            if started is not None:
                info = await self._placed(started)
                if info is None:
                    return
                self.node_id = info["node_id"]
                self.node = f"{info['hostname']}/{info['node_id'][:8]}"
                self.node_ip = info.get("ip")
                if not info.get("exact"):
                    log.warning(
                        "run %s: the worker's tree differs from the shipped one", self.run_id
                    )
            self.placed = True
            if reattached:
                for msg in await self.actor.resend.remote():
                    await self._handle(msg)
            await self._pump()
        except asyncio.CancelledError as exc:
            if "shutdown" in exc.args:
                await self._detach()
            else:
                await self._cancel_remote()
        except Exception as exc:  # noqa: BLE001 - every end of a worker is recorded
            await self._lost(exc)
        finally:
            await self._finish()

    async def _placed(self, started: Any) -> dict[str, Any] | None:
        """The worker's answer to `start`: where it runs. While no node has room the run says
        so once; a worker that cannot stand the workspace up fails the run with its reason."""
        waiting = asyncio.ensure_future(started)
        try:
            done, _ = await asyncio.wait({waiting}, timeout=QUEUED_NOTE_AFTER)
            if not done:
                await self.stream.append("log", {
                    "level": "info", "code": "executor.queued",
                    "message": "waiting for a Ray node with room for this run",
                })  # fmt: skip
            return await waiting
        except asyncio.CancelledError:
            waiting.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - lost node (re-raised) or a setup error
            if self.backend.is_lost(exc):
                raise
            lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
            why = lines[-1] if lines else type(exc).__name__
            await self._record_end(
                "run.failed", {"error": f"the worker could not set up the run: {why[:500]}"}
            )
            return None

    async def _pump(self, until: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        while not self.ended:
            if until is not None and loop.time() > until:
                raise TimeoutError
            batch = await self.actor.pull.remote(self.n, PULL_WAIT)
            for msg in batch:
                if msg["n"] <= self.n:
                    continue  # handled before a cancel interrupted the pull that brought it
                await self._handle(msg)
                self.n = msg["n"]
        with contextlib.suppress(Exception):
            await self.actor.pull.remote(self.n, 0)  # acknowledge the end

    async def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg["kind"]
        if kind == "event":
            await self._event(msg)
        elif kind in ("approval", "model") and msg["id"] not in self.handled:
            self.handled.add(msg["id"])
            self._spawn(msg["id"], self._approval(msg) if kind == "approval" else self._model(msg))
        elif kind in ("approval.cancel", "model.cancel"):
            task = self.helpers.pop(msg["id"], None)
            if task is not None:
                task.cancel()
        elif kind == "end":
            self.ended = True

    def _spawn(self, key: str, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.helpers[key] = task
        task.add_done_callback(
            lambda _t, k=key: self.helpers.pop(k, None) if self.helpers.get(k) is _t else None
        )

    # ---- events -----------------------------------------------------------------------------
    async def _event(self, msg: dict[str, Any]) -> None:
        ev = msg["event"]
        if ev["id"] in self.seen:
            return  # delivered again (a retried pull, a re-attach): written once
        t = ev["type"]
        if t in inbound.HOST_ONLY:  # forged: agentd records these itself
            log.warning("run %s: a worker's %s event was dropped", self.run_id, t)
            self.seen.add(ev["id"])
            return
        if msg.get("pack"):
            await asyncio.to_thread(
                receive_objects, self.harness.data_dir, self.workspace, msg["pack"]
            )
        if msg.get("artifact") is not None:
            arts = self.harness.store.artifacts_dir(self.run_id)
            path = ev["data"].get("path")
            await asyncio.to_thread(inbound.store_artifact, arts, path, msg["artifact"])
        data = await asyncio.to_thread(self._localize, t, inbound.event_data(t, ev["data"]))
        if t in HOME and not self.hold:
            await self._bring_home()
        await self.stream.append(
            t, data, step_id=ev.get("step_id"), call_id=ev.get("call_id"), event_id=ev["id"]
        )
        self.seen.add(ev["id"])

    def _localize(self, t: str, data: dict[str, Any]) -> dict[str, Any]:
        """Worker paths → this machine's; where it ran on run.started/resumed."""
        if t in ("run.started", "run.resumed"):
            data["worker_workspace"] = data.get("workspace")
            data["workspace"] = str(self.workspace)
            data.update(executor="ray", node=self.node, node_ip=getattr(self, "node_ip", None))
            data.update(base_commit=self.head, start_tree=self.start_tree)
        elif t.startswith("checkpoint."):
            shadow = open_shadow(self.harness.data_dir, self.workspace)
            data["shadow"] = str(shadow.git_dir)
            if t == "checkpoint.created" and data.get("tree") and data.get("ref"):
                data["ref"] = inbound.checkpoint_ref(self.run_id, data.get("name"))
                data["commit"] = shadow.commit(
                    data["tree"], f"{data.get('message', '')}\n", data["ref"]
                )
        return data

    async def _bring_home(self) -> None:
        """Apply the run's changes (or put them on a branch) and record `run.applied`."""
        try:
            events = await asyncio.to_thread(full_events, self.stream)
            if self.branch:
                report = await asyncio.to_thread(
                    apply_to_branch, self.harness.data_dir, self.workspace, self.run_id, events,
                    self.head, self.start_tree,
                )  # fmt: skip
            else:
                report = await asyncio.to_thread(
                    apply_to_worktree, self.harness.data_dir, self.workspace, self.run_id, events
                )
        except Exception as exc:  # noqa: BLE001 - the run's own end is still recorded
            msg = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
            await self.stream.append("run.applied", {"ok": False, "error": msg, "summary": msg})
            return
        await self.stream.append(
            "run.applied",
            {
                "ok": report.ok,
                "summary": report.summary(),
                "files": [f.model_dump() for f in report.files],
                "conflicts": [f.path for f in report.conflicts],
                "branch": report.branch,
                "commit": report.commit,
            },
        )

    # ---- approvals and models ----------------------------------------------------------------
    async def _approval(self, msg: dict[str, Any]) -> None:
        aid = msg["id"]
        answer = self.resolved_answers.get(aid)
        if answer is None:
            fields = dict(msg["fields"])
            fields["workspace"] = str(self.workspace)
            assert self.approvals is not None
            res = await self.harness.broker.request(
                stream=self.approvals, id=aid, preview=msg["preview"], **fields
            )
            answer = res.model_dump()
        await self.actor.answer.remote(aid, answer)

    async def _model(self, msg: dict[str, Any]) -> None:
        from harness_ls.models.http import retry_listener

        rid, actor = msg["id"], self.actor
        extra: list[Any] = []

        async def forward(notice: Any) -> None:
            extra.append({"retry": notice.as_dict()})

        token = retry_listener.set(forward)
        try:
            provider = self.resolved.provider
            stream = provider.stream(msg["model"], msg["messages"], msg["tools"], **msg["opts"])
            async for ev in stream:
                await actor.feed.remote(rid, [*extra, ev])
                extra.clear()
            await actor.feed.remote(rid, [*extra, None])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the worker's loop decides (retry or fail)
            with contextlib.suppress(Exception):
                await actor.feed.remote(rid, [*extra, {"error": error_dict(exc)}])
        finally:
            retry_listener.reset(token)

    # ---- ends -------------------------------------------------------------------------------
    async def _cancel_remote(self) -> None:
        """The user cancelled: tell the worker (it records run.cancelled), wait for its end."""
        self.harness.broker.cancel_for(self.run_id)
        try:
            if self.actor is None or not self.placed:  # still waiting for a node: nothing ran
                raise TimeoutError
            await self.actor.cancel.remote("cancel")
            await self._pump(until=asyncio.get_running_loop().time() + CANCEL_GRACE)
        except Exception as exc:  # noqa: BLE001 - a worker that cannot say so is cancelled here
            await self._record_end(
                "run.cancelled", {"reason": f"cancelled ({type(exc).__name__} on the worker)"}
            )

    async def _lost(self, exc: BaseException) -> None:
        lost = self.backend.is_lost(exc)
        self.lost = lost
        what = self.backend.describe_loss(exc) if lost else f"worker error: {type(exc).__name__}"
        if lost and what == "worker lost" and self.node_id and _unsure(self.backend, exc):
            what = await _node_fate(self.backend, self.node_id, what)
        where = f" {self.node}" if self.node else ""
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        log.warning("run %s: %s%s: %s", self.run_id, what, where, detail)
        await self._record_end(
            "run.interrupted",
            {
                "reason": f"{what}{where}",
                "cause": what,
                "node": self.node,
                "detail": detail,
                "resumable": True,
            },
        )

    async def _record_end(self, type: str, data: dict[str, Any]) -> None:
        if self.ended:
            return
        self.ended = True
        self.harness.broker.cancel_for(self.run_id)
        with contextlib.suppress(Exception):
            await self.end_with(type, data, data.get("reason", "stopped"))

    async def _detach(self) -> None:
        """agentd stops: leave the worker running; nothing about its approvals is recorded."""
        if self.approvals is not None:
            self.approvals.muted = True
        self.ended = True

    async def _finish(self) -> None:
        helpers = list(self.helpers.values())
        for task in helpers:
            task.cancel()
        if helpers:
            await asyncio.gather(*helpers, return_exceptions=True)
        if self.stream is not None:
            await self.stream.close()  # the log is whole now: a resume may take it at once
        detached = self.approvals is not None and self.approvals.muted
        if self.actor is not None and not detached:
            # the worker's cleanup goes on in the background; the run is already over
            _CLEANUPS.add(task := asyncio.create_task(_retire(self.backend, self.actor, self.lost)))
            task.add_done_callback(_CLEANUPS.discard)


_CLEANUPS: set[asyncio.Task[None]] = set()


NODE_FATE_WAIT = 15.0  # s: past Ray's default health-check window for a node that went away


def _unsure(backend: Any, exc: BaseException) -> bool:
    check = getattr(backend, "unsure", None)
    return bool(check and check(exc))


async def _node_fate(backend: Any, node_id: str, what: str) -> str:
    """ "node lost" once the cluster marks the worker's node dead, within NODE_FATE_WAIT; else
    `what`. An unreachable actor is reported before its node's missed heartbeats are counted,
    and the cause tells the user whether the machine or only the worker went away."""
    deadline = asyncio.get_running_loop().time() + NODE_FATE_WAIT
    while True:
        try:
            alive = await asyncio.to_thread(backend.node_alive, node_id)
        except Exception:  # noqa: BLE001 - the cluster cannot say: keep what the error said
            return what
        if alive is not True:
            return "node lost"
        if asyncio.get_running_loop().time() >= deadline:
            return what
        await asyncio.sleep(0.25)


async def _retire(backend: Any, actor: Any, lost: bool) -> None:
    """Remove the worker's checkout (unless its node is gone), then end the actor."""
    if not lost:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(actor.stop.remote(), 5)
    backend.kill(actor)
