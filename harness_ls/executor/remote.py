"""The Ray executor as core sees it: launch a run on the cluster, re-attach after a restart.

What crosses to a worker (docs/scale-out.md): the spec, the run's options, the user's policy and
the `[context]` settings, the model's name and limits, and the workspace as bundle + patch (no
ignored files, no secret files). Never the daemon's token; never a model key: model calls are
made by agentd and streamed to the worker (control.py).
"""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

from harness_ls.executor.config import ExecutorSettings, require_ray
from harness_ls.executor.control import RemoteRun
from harness_ls.executor.transfer import pack_workspace
from harness_ls.executor.worker import RunJob

IN_FLIGHT = ("created", "running", "waiting_approval")


class RayExecutor:
    """Runs on a Ray cluster; agentd stays the control plane (store, broker, SSE, auth)."""

    kind = "ray"

    def __init__(self, harness: Any, settings: ExecutorSettings) -> None:
        require_ray()
        self.harness = harness
        self.settings = settings
        self._backend: Any = None

    async def backend(self) -> Any:
        if self._backend is None:
            from harness_ls.executor.ray_actor import RayBackend

            backend = RayBackend(self.settings)
            await asyncio.to_thread(backend.connect)
            self._backend = backend
        return self._backend

    async def launch(
        self, run_id: str, ws: Path, spec_path: str, spec_text: str, model: str | None,
        options: dict[str, Any], *, resume: bool = False, branch: bool = False,
        hold: bool = False, shipment: tuple[Any, Any] | None = None,
    ) -> asyncio.Task[None]:  # fmt: skip
        """Ship the workspace, start the run's actor, and return the task that follows it."""
        from harness_ls.models import resolve

        backend = await self.backend()
        resolved = resolve("run", {"tools"}, model, workspace=ws, data_dir=self.harness.data_dir)
        remote = RemoteRun(self.harness, backend, run_id, ws, resolved=resolved, branch=branch)
        remote.hold = hold
        remote.open()
        try:
            # the actor's process starts while the workspace is packed (Ray creates it async)
            remote.actor = backend.create(run_id)
            prior = _prior(remote.stream) if resume else []
            if shipment is None or resume:
                tree = _last_tree(prior) if resume else None
                packed = await asyncio.to_thread(
                    pack_workspace, self.harness.data_dir, ws, run_id, tree
                )
                shipment = (packed, backend.put(packed))
            remote.head, remote.start_tree = shipment[0].payload.head, shipment[0].payload.tree
            job = self._job(
                run_id, ws, spec_path, spec_text, model, options, resolved, resume, prior
            )
            started = remote.actor.start.remote(job, shipment[1])
        except BaseException:
            if remote.actor is not None:
                backend.kill(remote.actor)
            await remote.stream.close()
            raise
        return asyncio.create_task(remote.follow(started), name=f"run:{run_id}")

    def _job(
        self, run_id: str, ws: Path, spec_path: str, spec_text: str, model: str | None,
        options: dict[str, Any], resolved: Any, resume: bool, prior: list[dict[str, Any]],
    ) -> RunJob:  # fmt: skip
        from harness_ls.tools import trust

        data_dir = Path(self.harness.data_dir)
        trusted = None
        if trust.workspace_trusted(ws, data_dir):
            trusted = trust.digest(trust.workspace_policy(ws).read_bytes())
        offline = resolved.reason.removeprefix("offline: ") if resolved.is_offline else None
        return RunJob(
            run_id=run_id, spec_path=spec_path, spec_text=spec_text, model=model,
            options=options, resume=resume, prior=prior, model_info=resolved.info,
            offline_reason=offline, model_reason=resolved.reason, model_hint=resolved.hint,
            http_settings=getattr(resolved.provider, "settings", None),
            user_policy=_read(data_dir / "policy.toml"), user_config=_context_table(data_dir),
            trusted_policy=trusted,
        )  # fmt: skip

    async def _gone(self, run_id: str) -> None:
        await _interrupt_gone(self.harness.store, run_id)

    async def close(self) -> None:
        """Let ended runs' workers finish their cleanup (bounded), so none is left behind."""
        from harness_ls.executor.control import _CLEANUPS

        if _CLEANUPS:
            await asyncio.wait(set(_CLEANUPS), timeout=10)

    async def reattach(self) -> dict[str, asyncio.Task[None]]:
        """Follow the runs whose workers outlived the previous agentd; the others are left to
        recovery, which marks them interrupted."""
        store = self.harness.store
        mine = [
            m for m in store.list("run")
            if m.status in IN_FLIGHT and (m.extra or {}).get("executor") == "ray"
        ]  # fmt: skip
        if not mine:
            return {}
        backend = await self.backend()
        tasks: dict[str, asyncio.Task[None]] = {}
        for meta in mine:
            actor = await asyncio.to_thread(backend.find, meta.id)
            if actor is None:
                await self._gone(meta.id)
                continue
            remote = RemoteRun(self.harness, backend, meta.id, Path(meta.workspace))
            from harness_ls.models import resolve

            try:
                remote.resolved = resolve(
                    "run", {"tools"}, meta.model, workspace=Path(meta.workspace),
                    data_dir=self.harness.data_dir,
                )  # fmt: skip
                remote.open()
            except Exception:  # noqa: BLE001 - left to recovery (interrupted)
                continue
            remote.actor = actor
            remote.node = getattr(meta, "node", None)
            remote.hold = bool(meta.extra.get("attempts"))
            remote.branch = bool(meta.extra.get("branch"))
            for ev in remote.stream.read():
                if ev.type in ("run.started", "run.resumed"):
                    remote.head = ev.data.get("base_commit")
                    remote.start_tree = ev.data.get("start_tree")
            tasks[meta.id] = asyncio.create_task(
                remote.follow(reattached=True), name=f"run:{meta.id}"
            )
        return tasks


async def _interrupt_gone(store: Any, run_id: str) -> None:
    from harness_ls.agent.replay import close_open

    try:
        stream = store.stream("run", run_id)
    except Exception:  # noqa: BLE001 - taken or unreadable: recovery decides
        return
    try:
        reason = "its Ray worker is gone (it or its node ended while agentd was down)"
        await close_open(stream, reason)
        await stream.append(
            "run.interrupted", {"reason": reason, "cause": "worker lost", "resumable": True}
        )
    finally:
        await stream.close()


def _prior(stream: Any) -> list[dict[str, Any]]:
    return [ev.to_dict() for ev in full_events_all(stream)]


def full_events_all(stream: Any) -> list[Any]:
    """Every event with its full data (oversize ones loaded back from their artifacts)."""
    out = []
    for ev in stream.read():
        if isinstance(ev.data, dict) and "$artifact" in ev.data:
            ev = ev.model_copy(update={"data": stream.load_data(ev)})
        out.append(ev)
    return out


def _last_tree(events: list[dict[str, Any]]) -> str | None:
    """Where the previous worker left the tree, as far as the log knows."""
    for ev in reversed(events):
        d = ev.get("data") or {}
        if ev["type"] == "checkpoint.delta" and d.get("after"):
            return str(d["after"])
        if ev["type"] in ("checkpoint.before", "checkpoint.created") and d.get("tree"):
            return str(d["tree"])
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _context_table(data_dir: Path) -> str:
    """Only `[context]` of config.toml travels (other tables may hold commands or env)."""
    try:
        doc = tomllib.loads((data_dir / "config.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return ""
    table = doc.get("context")
    if not isinstance(table, dict):
        return ""
    lines = ["[context]"]
    for key, value in table.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        elif isinstance(value, str):
            lines.append(f"{key} = {value!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"
