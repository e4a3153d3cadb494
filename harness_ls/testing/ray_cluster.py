"""A real multi-node Ray cluster on loopback for tests and benchmarks (ray.cluster_utils.Cluster).

Each node is its own raylet with one CPU; `remove_node` kills one the way a machine dies. Ray's
files (session logs, sockets, the auth token Ray keeps under ~/.ray) go to a private temp dir,
and the health checks are tightened so a dead node is noticed in about a second.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FAST_HEALTH = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 500,
    "health_check_failure_threshold": 3,
}


@dataclass
class LoopbackCluster:
    cluster: Any
    temp: Path
    nodes: list[Any] = field(default_factory=list)

    @property
    def address(self) -> str:
        return self.cluster.address

    @property
    def session_dir(self) -> Path:
        return self.temp / "ray"

    def add_node(self, num_cpus: int = 1) -> Any:
        node = self.cluster.add_node(num_cpus=num_cpus)
        self.nodes.append(node)
        self.cluster.wait_for_nodes()
        return node

    def node_of(self, node_id_prefix: str) -> Any:
        return next(n for n in self.nodes if n.node_id.startswith(node_id_prefix))

    def remove(self, node: Any) -> None:
        self.cluster.remove_node(node, allow_graceful=False)
        self.nodes.remove(node)

    def shutdown(self) -> None:
        import ray

        ray.shutdown()
        try:
            self.cluster.shutdown()
        finally:
            shutil.rmtree(self.temp, ignore_errors=True)


def start_cluster(workers: int = 2, *, home: Path | None = None) -> LoopbackCluster:
    """A head node with no CPU (so runs land on workers only) and `workers` one-CPU nodes."""
    from ray.cluster_utils import Cluster

    temp = Path(tempfile.mkdtemp(prefix="hr-"))  # short: Ray's socket paths must fit 107 bytes
    (temp / "ray").mkdir()
    os.environ["RAY_TMPDIR"] = str(temp)
    if home is not None:
        os.environ["HOME"] = str(home)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "temp_dir": str(temp / "ray"),
            "include_dashboard": False,
            "_system_config": FAST_HEALTH,
        },
    )
    lc = LoopbackCluster(cluster, temp)
    for _ in range(workers):
        lc.add_node()
    return lc


RAY_PROCESS_MARKS = ("raylet", "gcs_server", "default_worker.py", "ray::", "plasma")


def ray_pids(exclude: set[int] | None = None) -> list[int]:
    """The processes of the Ray cluster on this machine (raylets with their object stores, the
    GCS, workers), found by their command lines."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (exclude or set()):
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(mark in cmd for mark in RAY_PROCESS_MARKS):
            out.append(int(entry.name))
    return out


def memory_contains(pid: int, needles: list[bytes], max_region: int = 1 << 30) -> list[bytes]:
    """Which needles occur in the process's readable memory (a dump of it, region by region:
    the object store is a shared mapping inside each raylet). Needs ptrace rights (root, or a
    descendant process)."""
    found: set[bytes] = set()
    try:
        maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)  # noqa: SIM115
    except OSError:
        return []
    with mem:
        for line in maps:
            parts = line.split()
            if len(parts) < 2 or "r" not in parts[1]:
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if end - start > max_region or (len(parts) > 5 and parts[5].startswith("[v")):
                continue
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            found |= {n for n in needles if n in chunk}
    return sorted(found)
