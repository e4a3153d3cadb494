"""scripts/install-system-deps.sh on a bare machine, simulated with a PATH that hides every tool.

Uninstalling Chromium & co. for real is not possible here (other work on this machine uses them),
so these tests check the detection and the two outcomes with a PATH holding only bash and id:
--dry-run names every package, and a non-root user is stopped with the exact command to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import REPO, require_capability

SCRIPT = REPO / "scripts" / "install-system-deps.sh"
ALL = "chromium graphviz ripgrep nodejs npm bubblewrap emacs-nox elpa-eglot elpa-markdown-mode"


def bare_path(tmp_path: Path, *tools: str) -> str:
    """A directory holding only bash, id and the given tools: a machine without the rest."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("bash", "id", *tools):
        (bin_dir / name).symlink_to(shutil.which(name) or f"/usr/bin/{name}")
    bin_dir.chmod(0o755)
    tmp_path.chmod(0o755)
    return str(bin_dir)


def run(path: str, *args: str, user: str | None = None, elpa="/nonexistent", script=SCRIPT):
    env = {"PATH": path, "HARNESS_ELPA_DIR": elpa}
    cmd = [f"{path}/bash", str(script), *args]
    if user:
        cmd = [
            shutil.which("runuser") or "/usr/sbin/runuser",
            "-u",
            user,
            "--",
            "/usr/bin/env",
            *(f"{k}={v}" for k, v in env.items()),
            *cmd,
        ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)


def test_dry_run_on_a_bare_machine_names_every_package(tmp_path):
    proc = run(bare_path(tmp_path), "--dry-run")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.splitlines() == [
        f"install-system-deps: missing: {ALL}",
        f"install-system-deps: would run: apt-get update && apt-get install -y {ALL}",
    ]


def test_dry_run_lists_only_what_is_missing(tmp_path):
    elpa = tmp_path / "elpa"
    (elpa / "eglot-1.9").mkdir(parents=True)
    (elpa / "markdown-mode-2.5").mkdir()
    proc = run(bare_path(tmp_path, "rg", "dot"), "--dry-run", elpa=str(elpa))
    assert proc.returncode == 3
    assert proc.stdout.splitlines()[0] == (
        "install-system-deps: missing: chromium nodejs npm bubblewrap emacs-nox"
    )


def test_nothing_missing_on_this_machine():
    """`make test` and .ci/run call the script: with everything installed it is silent and quick."""
    proc = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=30, env=dict(os.environ)
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_non_root_stops_before_the_suite_with_the_command_to_run():
    require_capability(os.geteuid() == 0, "root to switch to a second user", "run as root (CI is)")
    # a world-readable copy in a world-readable dir: pytest's tmp dirs are private to root
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        script = Path(tmp) / "install-system-deps.sh"
        shutil.copy(SCRIPT, script)
        script.chmod(0o755)
        proc = run(bare_path(Path(tmp), "apt-get"), user="nobody", script=script)
    assert proc.returncode == 1
    assert "missing: " + ALL in proc.stderr
    assert f"    sudo apt-get update && sudo apt-get install -y {ALL}" in proc.stderr.splitlines()


def test_unknown_option_is_named(tmp_path):
    proc = run(bare_path(tmp_path), "--frobnicate")
    assert proc.returncode == 2
    assert "unknown option '--frobnicate'" in proc.stderr
