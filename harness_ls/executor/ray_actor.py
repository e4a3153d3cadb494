"""The Ray side: one detached actor per run (named by the run id), and agentd's calls to it.

Only this module imports Ray; the rest of the executor talks to `RayBackend`. The actor is
async: `pull` long-polls the outbox while the engine runs in the same event loop, so events,
approval answers, model output and a cancel cross in one call each. Detached, so a restarting
agentd finds it again by name (`attach`).
"""

from __future__ import annotations

import os
from typing import Any

import ray

from harness_ls.errors import InvalidInput
from harness_ls.executor.config import ExecutorSettings
from harness_ls.executor.transfer import WorkspaceShipment
from harness_ls.executor.worker import RunJob, WorkerRun

NAME_PREFIX = "harness-run-"


@ray.remote(max_restarts=0, max_task_retries=0)
class RunActor:
    """One run segment; every method is a message to or from the control plane."""

    def __init__(self, run_id: str) -> None:
        self.run = WorkerRun(run_id)

    async def start(self, job: RunJob, shipment: WorkspaceShipment) -> dict[str, Any]:
        return await self.run.start(job, shipment)

    async def where(self) -> dict[str, Any]:
        return self.run.where()

    async def pull(self, after: int, wait: float) -> list[dict[str, Any]]:
        return await self.run.outbox.after(after, wait)

    async def answer(self, approval_id: str, resolution: dict[str, Any]) -> None:
        self.run.broker.answer(approval_id, resolution)

    async def feed(self, request_id: str, items: list[Any]) -> None:
        if self.run.provider is not None:
            self.run.provider.feed(request_id, items)

    async def resend(self) -> list[dict[str, Any]]:
        """For a re-attached agentd: the approvals still waiting; open model calls restart."""
        if self.run.provider is not None:
            self.run.provider.restart_calls()
        return self.run.broker.waiting()

    async def cancel(self, reason: str = "cancel") -> None:
        await self.run.cancel(reason)

    async def stop(self) -> None:
        """Remove the checkout and data dir; the caller kills the actor next."""
        await self.run.cancel("cancel")
        self.run.cleanup()


class RayBackend:
    """agentd's connection to the cluster (one per process)."""

    def __init__(self, settings: ExecutorSettings) -> None:
        self.settings = settings
        self.namespace = settings.namespace

    def connect(self) -> None:
        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = {
            "namespace": self.namespace,
            "log_to_driver": False,
            "logging_level": "ERROR",
            "configure_logging": True,
        }
        if self.settings.address:
            kwargs["address"] = self.settings.address
        else:  # a local cluster beside agentd: one node, this machine's cores
            kwargs["include_dashboard"] = False
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        try:
            ray.init(**kwargs)
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ...
            where = self.settings.address or "a new local cluster"
            raise InvalidInput(
                f"cannot reach the Ray cluster at {where}: {str(exc).strip().splitlines()[0]}",
                hint="check `ray status` on the head node and the address (docs/scale-out.md)",
            ) from None

    def create(self, run_id: str) -> Any:
        """The run's actor; Ray starts its process meanwhile (call `start` on it next)."""
        s = self.settings
        options: dict[str, Any] = {
            "name": NAME_PREFIX + run_id,
            "namespace": self.namespace,
            "lifetime": "detached",
            "num_cpus": s.num_cpus,
        }
        if s.memory_mb:
            options["memory"] = s.memory_mb * 1024 * 1024
        if s.resources:
            options["resources"] = dict(s.resources)
        return RunActor.options(**options).remote(run_id)

    def put(self, value: Any) -> Any:
        return ray.put(value)

    def find(self, run_id: str) -> Any | None:
        try:
            return ray.get_actor(NAME_PREFIX + run_id, namespace=self.namespace)
        except ValueError:
            return None

    def kill(self, actor: Any) -> None:
        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass

    @staticmethod
    def is_lost(exc: BaseException) -> bool:
        """The actor or its node died (as opposed to an error in our own code)."""
        return isinstance(exc, ray.exceptions.RayActorError | ray.exceptions.ActorUnavailableError)

    @staticmethod
    def describe_loss(exc: BaseException) -> str:
        text = str(exc)
        if "node has died" in text or "node died" in text.lower():
            return "node lost"
        return "worker lost"

    @staticmethod
    def unsure(exc: BaseException) -> bool:
        """Ray only says the actor is unreachable for now (its connection closed): the node may
        be dying and not yet marked dead, so the cause is decided by the node's fate."""
        return isinstance(exc, ray.exceptions.ActorUnavailableError)

    def node_alive(self, node_id: str) -> bool | None:
        """Whether the cluster still counts the node alive (None: not known to it)."""
        for n in ray.nodes():
            if n.get("NodeID") == node_id:
                return bool(n.get("Alive"))
        return None

    def nodes(self) -> list[dict[str, Any]]:
        return [
            {"node_id": n["NodeID"], "ip": n.get("NodeManagerAddress"), "alive": n.get("Alive")}
            for n in ray.nodes()
        ]
