"""What a command writes outside the workspace neither stays nor fills the host's memory, and a
fork bomb stops at a process limit.

Under bubblewrap every stand-in tmpfs (`/tmp`, `/var/tmp`, `$HOME`, `/run`, the data dir) and
bwrap's own `/dev` were uncapped: each could take half the machine's RAM (12 GiB on the 24 GiB
test machine), enough together to wake the OOM killer, which may pick the daemon. Under the
Landlock fallback `/dev` was writable, so `/dev/shm/x` (RAM, and other programs' shared memory)
and `mkdir /dev/x` outlived the call outside the workspace. Caps are made small here so the test
writes only a few MiB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, bubblewrap, sandbox
from tests.conftest import require_capability
from tests.tools.test_sandbox import ctx_for, needs_bwrap

shell = TOOLS["shell"]
MIB = 1024 * 1024


@needs_bwrap
async def test_every_tmpfs_of_the_sandbox_is_capped(repo: Path, monkeypatch) -> None:
    monkeypatch.setattr(bubblewrap, "TMPFS_BYTES", 4 * MIB)
    monkeypatch.setattr(bubblewrap, "STAND_IN_BYTES", 2 * MIB)
    places = ["/tmp", "/var/tmp", "$HOME", "/dev/shm"]
    cmd = "; ".join(
        f"head -c {6 * MIB} /dev/zero > {p}/fill 2>/dev/null; echo '{p}' $?; rm -f {p}/fill"
        for p in places
    )
    cmd += '; mkdir /dev/x 2>/dev/null; echo "/dev $?"; df -k /tmp /dev/shm | tail -2'
    r = await shell.run(ctx_for(repo), {"command": cmd, "timeout": 60})
    assert r.data["sandbox"] == "bwrap", r.data
    for place in places:
        assert f"{place} 1" in r.output, r.output  # "No space left on device"
    assert "/dev 1" in r.output, r.output  # read-only
    sizes = [line.split()[1] for line in r.output.splitlines() if line.startswith("tmpfs")]
    assert sizes == [str(4 * 1024), str(2 * 1024)], r.output


@needs_bwrap
def test_the_caps_are_on_every_tmpfs_bwrap_mounts(repo: Path) -> None:
    box = sandbox.prepare(["true"], workspace=repo, tmpdir=repo.parent, settings=sandbox.Settings())
    argv = box.argv
    mounts = [i for i, a in enumerate(argv) if a == "--tmpfs"]
    assert mounts, argv
    for i in mounts:
        assert argv[i - 2] == "--size" and int(argv[i - 1]) <= bubblewrap.TMPFS_BYTES, argv[i - 2 :]
    assert argv[argv.index("--remount-ro") + 1] == "/dev"


async def test_under_landlock_nothing_is_left_in_dev(repo: Path, monkeypatch) -> None:
    require_capability(sandbox.landlock() > 0, "Landlock in the kernel",
                       "a Linux kernel >= 5.13 with Landlock on")  # fmt: skip
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    name = f"harness-test-{uuid.uuid4().hex}"
    shm, dev = Path("/dev/shm") / name, Path("/dev") / name
    cmd = (f"echo x > {shm}; echo \"shm $?\"; mkdir {dev}; echo \"dev $?\"; "
           "echo y > /dev/null; echo \"null $?\"")  # fmt: skip
    try:
        r = await shell.run(ctx_for(repo), {"command": cmd})
        assert r.data["sandbox"] == "landlock", r.data
        assert "shm 1" in r.output and "dev 1" in r.output, r.output
        assert "null 0" in r.output, r.output
        assert not shm.exists() and not dev.exists()
    finally:
        for leftover in (shm, dev):
            if leftover.is_dir():
                os.rmdir(leftover)
            elif leftover.exists():
                leftover.unlink()


@pytest.mark.parametrize("path", ["/dev/null", "/dev/pts"])
def test_landlock_still_writes_devices_and_terminals(path: str) -> None:
    from harness_ls.tools.landlock import dev_writes

    assert path in dev_writes() and "/dev/shm" not in dev_writes() and "/dev" not in dev_writes()


def _as_nobody() -> list[str]:
    runuser = shutil.which("runuser")
    require_capability(os.geteuid() == 0 and runuser is not None, "root with runuser",
                       "run as root (CI does): the test needs a second, unprivileged user")  # fmt: skip
    return [runuser, "-u", "nobody", "--"]


@needs_bwrap
def test_a_fork_bomb_stops_at_the_process_limit(repo: Path, monkeypatch) -> None:
    """The kernel exempts root from RLIMIT_NPROC, so the limit is shown for `nobody` (as which
    bwrap runs unprivileged, in its own user namespace, like for any normal user)."""
    monkeypatch.setattr(bubblewrap, "PROCESS_LIMIT", 32)
    box = sandbox.prepare(["bash", "-c", "true"], workspace=repo, tmpdir=repo.parent,
                          settings=sandbox.Settings())  # fmt: skip
    # the shell tool's `bash -c SCRIPT` gets the limits in front of its script (one bash start)
    assert box.argv[-3:-1] == ["bash", "-c"] and box.argv[-4] == "--", box.argv
    assert box.argv[-1].startswith("ulimit -u 32 ") and box.argv[-1].endswith("; true"), box.argv
    other = sandbox.prepare(["python3", "-c", "pass"], workspace=repo, tmpdir=repo.parent,
                            settings=sandbox.Settings())  # fmt: skip
    assert other.argv[-3:] == ["python3", "-c", "pass"] and "ulimit -u 32" in other.argv[-5]
    bomb = "for i in {1..100}; do sleep 5 & done; echo started; jobs -p"

    def run(limit: int) -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(bubblewrap, "PROCESS_LIMIT", limit)
        cmd = [*_as_nobody(), sandbox.bwrap() or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev",
               "--proc", "/proc", "--unshare-pid", "--die-with-parent", "--",
               *bubblewrap._limited(["bash", "-c", bomb])]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd="/")

    free = run(10_000)  # the same loop without the limit in the way: 100 sleeps
    assert len(free.stdout.split("started\n", 1)[1].split()) == 100, free
    capped = run(32)  # the shell gives up when fork keeps failing (the sleeps die with it)
    assert "started" not in capped.stdout and capped.returncode != 0, capped
    assert "fork: retry: Resource temporarily unavailable" in capped.stderr, capped.stderr


async def test_a_command_filling_the_disk_is_killed_at_the_floor(repo: Path, monkeypatch) -> None:
    """The floor is put 64 MiB under the free space now, so the test writes about that much."""
    from harness_ls.tools import shell as shell_mod

    st = os.statvfs(repo)
    monkeypatch.setattr(shell_mod, "DISK_FLOOR", st.f_bavail * st.f_frsize - 64 * MIB)
    cmd = "for i in $(seq 64); do head -c 8388608 /dev/zero >> big; sleep 0.05; done; echo done"
    r = await shell.run(ctx_for(repo), {"command": cmd, "timeout": 60})
    size = (repo / "big").stat().st_size
    (repo / "big").unlink()
    assert r.error_code == "disk_low" and not r.ok, r.output
    assert r.output.startswith("killed: less than ") and f"disk of {repo}" in r.output, r.output
    assert "free space there" in r.output and "done" not in r.output, r.output
    assert r.data["exit_code"] is None and 64 * MIB <= size < 200 * MIB, (r.data, size)
