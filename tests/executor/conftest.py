"""One real multi-node Ray cluster (head + two one-CPU workers) for every Ray test of the session.

Starting one costs ~3 s and ~700 MB on a quiet box (15+ s under load), so it is shared; a test
that removes a node adds one back. Ray is an optional extra: without it these tests skip, except
under CI=true with HARNESS_REQUIRE_TOOLS=1, where .ci/run has installed it and a missing Ray fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness_ls.testing.greet import SPEC

from ..conftest import IN_CI


def require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        msg = "ray not installed: pip install -e '.[dev,ray]'"
        if IN_CI and os.environ.get("HARNESS_REQUIRE_TOOLS") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    require_ray()
    from harness_ls.testing.ray_cluster import start_cluster

    home = tmp_path_factory.mktemp("ray-home")
    saved = {k: os.environ.get(k) for k in ("HOME", "RAY_TMPDIR")}
    lc = start_cluster(2, home=home)
    try:
        yield lc
    finally:
        lc.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def two_nodes(cluster):
    """The cluster with two live worker nodes (a test before may have removed one)."""
    while len(cluster.nodes) < 2:
        cluster.add_node()
    return cluster


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def make_repo(root: Path, name: str = "repo") -> Path:
    ws = root / name
    ws.mkdir(parents=True)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.email", "t@example.com")
    git(ws, "config", "user.name", "Test")
    (ws / "greet.txt").write_text("hi\n")
    spec = ws / "specs" / "greet" / "spec.md"
    spec.parent.mkdir(parents=True)
    spec.write_text(SPEC)
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "init")
    return ws


def script(root: Path, *responses: dict[str, Any]) -> str:
    path = root / f"script-{len(list(root.glob('script-*')))}.json"
    path.write_text(json.dumps({"responses": list(responses)}))
    return f"scripted:{path}"
