"""A new user's first minute: a fresh clone, then README's `make run` — nothing else.

Long (creates a venv and installs from PyPI): runs with HARNESS_LONG=1. `make test` is the other
quick-start command; CI runs exactly that on every change, so it is not repeated here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from harness_ls.testing.owner import owner_data_dir
from tests.conftest import require_capability
from tests.e2e.helpers import LONG, REPO, wait_for


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
@pytest.mark.timeout(1200)  # pip under load: the figure is printed, not asserted
@pytest.mark.skipif(not LONG, reason="installs a fresh venv from PyPI: set HARNESS_LONG=1")
def test_fresh_clone_make_run_serves_the_dashboard(tmp_path):
    require_capability(
        port_free(8787),
        "127.0.0.1:8787 free",
        "stop what serves there (README's `make run` uses it)",
    )
    clone = tmp_path / "harness-ls"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
    keep["PATH"] = ":".join(p for p in keep.get("PATH", "").split(":") if ".venv" not in p)
    env = {**keep, "HOME": str(tmp_path / "home"), "HARNESS_DATA_DIR": str(tmp_path / "data")}
    owner_data_dir(tmp_path / "data")  # auth is always on: the test asks as the owner (token file)
    # a warm pip cache (this machine's), as README's figure says; a private HOME otherwise
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or os.path.expanduser("~/.cache/pip")
    log = (tmp_path / "make-run.log").open("wb")
    proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:

        def up() -> bool:
            assert proc.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            try:
                return httpx.get("http://127.0.0.1:8787/v1/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        t0 = time.monotonic()
        wait_for(up, 900, every=1, what="`make run` to serve the dashboard")
        took = time.monotonic() - t0
        load = os.getloadavg()[0]
        size = subprocess.run(["du", "-sm", str(clone / ".venv")], capture_output=True, text=True)
        print(f"\nfresh clone → dashboard in {took:.1f} s (load average {load:.1f}); runtime venv "
              f"{size.stdout.split()[0]} MB")  # fmt: skip
        assert "<html" in httpx.get("http://127.0.0.1:8787/", timeout=5).text.lower()
        # README's next step, `make build`: the wrappers, with the runtime only (no test tools)
        built = subprocess.run(["make", "build"], cwd=clone, env=env, capture_output=True,
                               text=True, timeout=600)  # fmt: skip
        assert built.returncode == 0, built.stdout + built.stderr
        version = subprocess.run([str(clone / "bin" / "agentctl"), "--version"], env=env,
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
        assert version.stdout.startswith("agentctl "), version
        site = next((clone / ".venv" / "lib").glob("python3*/site-packages"))
        dev_only = [
            n for n in ("pytest", "playwright", "ruff", "hypothesis") if (site / n).exists()
        ]
        assert dev_only == [], f"`make build` installed the dev extras: {dev_only}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
