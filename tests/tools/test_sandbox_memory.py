"""What a command writes outside the workspace neither stays nor fills the host's memory.

Under bubblewrap every stand-in tmpfs (`/tmp`, `/var/tmp`, `$HOME`, `/run`, the data dir) and
bwrap's own `/dev` were uncapped: each could take half the machine's RAM (12 GiB on the 24 GiB
test machine), enough together to wake the OOM killer, which may pick the daemon. Under the
Landlock fallback `/dev` was writable, so `/dev/shm/x` (RAM, and other programs' shared memory)
and `mkdir /dev/x` outlived the call outside the workspace. Caps are made small here so the test
writes only a few MiB.
"""

from __future__ import annotations

import os
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
