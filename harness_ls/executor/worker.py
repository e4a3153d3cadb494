"""One run on a worker: its own checkout, data dir and engine; the run's ends in the outbox.

`WorkerRun` is what the Ray actor (ray_actor.py) holds: it stands the shipped workspace up in a
private temp dir, writes the user's policy there (and trusts the workspace's policy file only if
the user trusts that exact content at home), and drives the ordinary `RunEngine` with the relays
of relay.py as its store, broker and model. Everything it made is removed when the actor ends.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.agent.run import RunEngine, RunOptions
from harness_ls.executor.relay import Outbox, RelayBroker, RelayProvider, RelayStore, RelayStream
from harness_ls.executor.transfer import ObjectCourier, WorkspaceShipment, materialize
from harness_ls.private import private_dir
from harness_ls.store.events import Event


class RunJob(BaseModel):
    """Everything a worker gets besides the workspace: no token, no key (docs/scale-out.md)."""

    run_id: str
    spec_path: str
    spec_text: str
    model: str | None = None
    options: dict[str, Any] = {}
    resume: bool = False
    prior: list[dict[str, Any]] = []  # earlier segments' events, full data (a resumed run)
    model_info: Any = None  # models.ModelInfo of the model agentd resolved
    offline_reason: str | None = None
    model_reason: str = ""
    model_hint: str | None = None
    http_settings: Any = None  # models.http.HttpSettings (retry policy for cut streams)
    user_policy: str = ""  # <data dir>/policy.toml
    user_config: str = ""  # the [context] part of <data dir>/config.toml
    trusted_policy: str | None = None  # sha256 of the workspace policy the user trusts, if any


class WorkerHost:
    """The AgentHost a remote run engine lives in (agent/host.py)."""

    def __init__(self, data_dir: Path, store: RelayStore, broker: RelayBroker, job: RunJob) -> None:
        self.data_dir = data_dir
        self.model = job.model
        self.policy_mode = job.options.get("policy_mode")
        self.options = RunOptions(**job.options)
        self.unrecorded_failures: dict[str, str] = {}
        self.spec_write_hook = None
        self.mcp = None  # MCP servers run beside agentd, not on workers (docs/scale-out.md)
        self.store = store
        self.broker = broker


class RemoteRunEngine(RunEngine):
    """The ordinary engine; only its model comes from the control plane."""

    relayed: Any = None

    def _resolve_model(self) -> Any:
        return self.relayed


class WorkerRun:
    """One run segment on this worker."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.outbox = Outbox()
        self.root = Path(tempfile.mkdtemp(prefix="harness-worker-"))
        self.task: asyncio.Task[None] | None = None
        self.broker = RelayBroker(self.outbox)
        self.provider: RelayProvider | None = None

    def where(self) -> dict[str, str]:
        import ray

        ctx = ray.get_runtime_context()
        return {
            "node_id": ctx.get_node_id(),
            "ip": ray.util.get_node_ip_address(),
            "hostname": socket.gethostname(),
        }

    async def start(self, job: RunJob, shipment: WorkspaceShipment) -> dict[str, Any]:
        """Stand the workspace up and start the engine; returns what it stands on."""
        import time

        t0 = time.perf_counter()
        data = private_dir(self.root / "data")
        private_dir(data / "runs" / job.run_id / "artifacts")
        if job.user_policy:
            (data / "policy.toml").write_text(job.user_policy)
        if job.user_config:
            (data / "config.toml").write_text(job.user_config)
        ws = await asyncio.to_thread(materialize, shipment, self.root)
        t_checkout = time.perf_counter() - t0
        _trust_if_same(data, ws, job.trusted_policy)
        from harness_ls.workspace.shadow import open_shadow
        from harness_ls.workspace.snapshot import snapshot

        shadow = await asyncio.to_thread(open_shadow, data, ws)
        tree = (await asyncio.to_thread(snapshot, shadow, job.run_id)).tree
        exact = tree == shipment.payload.tree
        courier = ObjectCourier(shadow, tree if exact else None)
        prior = [Event.model_validate(e) for e in job.prior]
        stream = RelayStream(job.run_id, data, self.outbox, prior, courier.pack)
        self.provider = RelayProvider(self.outbox, "relay", job.http_settings)
        host = WorkerHost(data, RelayStore(stream), self.broker, job)
        engine = RemoteRunEngine(
            harness=host, run_id=job.run_id, workspace=ws, spec_path=job.spec_path,
            spec_text=job.spec_text, model=job.model,
            options=host.options.model_copy(), resume=job.resume,
        )  # fmt: skip
        engine.relayed = _relayed_model(job, self.provider)
        await engine.open()
        self.task = asyncio.create_task(self._drive(engine), name=f"run:{job.run_id}")
        timings = {
            "checkout_s": round(t_checkout, 3),
            "setup_s": round(time.perf_counter() - t0, 3),
        }
        return {"workspace": str(ws), "exact": exact, "tree": tree, **timings, **self.where()}

    async def _drive(self, engine: RunEngine) -> None:
        try:
            await engine.run()
        finally:
            self.outbox.put({"kind": "end"})

    async def cancel(self, reason: str = "cancel") -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel(reason)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _relayed_model(job: RunJob, provider: RelayProvider) -> Any:
    from harness_ls.models.resolve import ResolvedModel, offline

    if job.offline_reason is not None:
        return offline(job.offline_reason)
    return ResolvedModel(job.model_info, provider, False, job.model_reason, hint=job.model_hint)


def _trust_if_same(data: Path, ws: Path, digest: str | None) -> None:
    """Trust the checkout's workspace policy only when it is the exact content the user trusts."""
    if digest is None:
        return
    from harness_ls.tools import trust

    path = trust.workspace_policy(ws)
    try:
        if trust.digest(path.read_bytes()) == digest:
            trust.trust(data, path)
    except OSError:
        pass
