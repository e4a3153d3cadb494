"""What a sandboxed command can and cannot read, write, connect to and signal — under real
bubblewrap and under the Landlock fallback (bubblewrap made unavailable, as on a machine without
it), with the same probe. The table per mode is the documented one (docs/security.md).

The planted home holds what an attacker wants (`~/.ssh/id_rsa`, `~/.aws/credentials`, `~/.npmrc`)
next to a toolchain directory (`~/.cargo/bin`) a build needs; a Unix socket listens outside the
workspace *and* outside every directory the sandbox hides wholesale (so only the per-socket mask
can stop it), an abstract socket and a TCP port listen on the host, and another process runs.
"""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, ToolContext, sandbox
from tests.conftest import require_capability

shell = TOOLS["shell"]
HERE = Path(__file__).resolve().parent

PROBES = {
    "read host file (/etc/passwd)": "grep -q root /etc/passwd",
    "read workspace file": "grep -q Hello README.md",
    "read workspace .env.local": "grep -q SECRETVALUE .env.local",
    "read workspace deploy/id_ed25519": "grep -q KEYDATA deploy/id_ed25519",
    "read ~/.ssh/id_rsa": "grep -q SSHKEY ~/.ssh/id_rsa",
    "read the real home .ssh/id_rsa by path": "grep -q SSHKEY {home}/.ssh/id_rsa",
    "read ~/.aws/credentials": "grep -q AWSKEY ~/.aws/credentials",
    "read ~/.npmrc": "grep -q NPMTOKEN ~/.npmrc",
    "run toolchain ~/.cargo/bin/tool": "~/.cargo/bin/tool | grep -q tool-ran",
    "read the data dir": "grep -q mode {data}/policy.toml",
    "read host /tmp": "grep -q host {outside}/host-tmp.txt",
    "write workspace file": "echo x > new.txt",
    "write .git/config": "printf '[core]\\n\\tfsmonitor = touch {outside}/pwned\\n' >> .git/config",
    "write .harness/policy.toml": "echo '[allow]' >> .harness/policy.toml",
    "write .vscode/settings.json": "echo '{{}}' > .vscode/settings.json",
    "create .idea/workspace.xml": "mkdir .idea && echo x > .idea/workspace.xml",
    "write outside the workspace": "echo x > {outside}/escaped.txt",
    "write ~/.bashrc": "echo x >> ~/.bashrc",
    "connect TCP 127.0.0.1": "exec 3<>/dev/tcp/127.0.0.1/{port}",
    "connect Unix socket outside": "{py} 'import socket; socket.socket(socket.AF_UNIX).connect(\"{sock}\")'",
    "connect abstract socket": "{py} 'import socket; socket.socket(socket.AF_UNIX).connect(\"\\0{abstract}\")'",
    "signal another process": "kill -0 {pid}",
    "read another process environ": "grep -q . /proc/{pid}/environ",
    "SSH_AUTH_SOCK / DBUS / XDG_RUNTIME_DIR in env": 'test -n "$SSH_AUTH_SOCK$DBUS_SESSION_BUS_ADDRESS$XDG_RUNTIME_DIR"',
}  # fmt: skip
# ~/.bashrc: $HOME is an empty stand-in (a tmpfs, or a dir in TMPDIR for Landlock), gone after
# .idea/ did not exist: a mount point would show up in the user's editor, so the guard undoes it
CAN = {"read host file (/etc/passwd)", "read workspace file", "run toolchain ~/.cargo/bin/tool",
       "write workspace file", "write ~/.bashrc", "create .idea/workspace.xml"}  # fmt: skip
# Landlock cannot mediate connect() by path, nor exclude .git/ from a writable workspace (the write
# happens, then the guard restores it and fails the call).
LANDLOCK_CAN = CAN | {
    "connect Unix socket outside",
    "write .git/config",
    "write .harness/policy.toml",
    "write .vscode/settings.json",
}
BWRAP_CAN = CAN


@pytest.fixture
def world(repo: Path, tmp_path: Path):
    """The planted home, data dir, host-side listeners and a bystander process."""
    home = tmp_path / "home"
    for rel, text in ((".ssh/id_rsa", "SSHKEY\n"), (".aws/credentials", "AWSKEY\n"),
                      (".npmrc", "//r/:_authToken=NPMTOKEN\n"), (".bashrc", "# mine\n"),
                      (".cargo/bin/tool", "#!/bin/sh\necho tool-ran\n")):  # fmt: skip
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    (home / ".cargo/bin/tool").chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.toml").write_text('mode = "ask"\n')
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "host-tmp.txt").write_text("host\n")
    (repo / ".env.local").write_text("API=SECRETVALUE-0123456789abcdef\n")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "id_ed25519").write_text("KEYDATA\n")
    (repo / ".harness").mkdir()
    (repo / ".harness" / "policy.toml").write_text('mode = "ask"\n')
    (repo / ".vscode").mkdir()
    (repo / ".vscode" / "settings.json").write_text('{"editor.tabSize": 4}\n')
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(4)
    sockdir = Path(tempfile.mkdtemp(prefix=".sock-", dir=HERE))  # not under /tmp, $HOME or /run
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(sockdir / "s"))
    unix.listen(4)
    abstract = f"harness-test-{tmp_path.name}"
    anon = socket.socket(socket.AF_UNIX)
    anon.bind("\0" + abstract)
    anon.listen(4)
    other = subprocess.Popen(["sleep", "300"], env={"OTHER_SECRET": "x"})
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "SSH_AUTH_SOCK": str(sockdir / "s"),
           "DBUS_SESSION_BUS_ADDRESS": f"unix:abstract={abstract}", "XDG_RUNTIME_DIR": "/run/user/0"}  # fmt: skip
    fmt = {"home": home, "data": data, "outside": outside, "port": tcp.getsockname()[1], "sock": sockdir / "s",
           "abstract": abstract, "pid": other.pid, "py": "python3 -I -S -c"}  # fmt: skip
    try:
        yield {"repo": repo, "home": home, "data": data, "outside": outside, "env": env, "fmt": fmt}
    finally:
        other.kill()
        other.wait()
        for s in (tcp, unix, anon):
            s.close()
        (sockdir / "s").unlink(missing_ok=True)
        sockdir.rmdir()


async def probe(world: dict, **settings) -> tuple[dict[str, bool], object]:
    script = "\n".join(
        f"if ( {cmd.format(**world['fmt'])} ) >/dev/null 2>&1; then echo 'CAN {name}'; "
        f"else echo 'CANNOT {name}'; fi"
        for name, cmd in PROBES.items()
    )
    ctx = ToolContext(workspace=world["repo"], data_dir=world["data"], env=world["env"],
                      extra={"sandbox": sandbox.Settings(**settings)})  # fmt: skip
    result = await shell.run(ctx, {"command": script})
    seen = {}
    for line in result.output.splitlines():
        verdict, _, name = line.partition(" ")
        if name in PROBES:
            seen[name] = verdict == "CAN"
    assert set(seen) == set(PROBES), result.output
    return seen, result


def _host_unchanged(world: dict) -> None:
    """Whatever happened inside, the host is as before: no file outside, git config and the
    harness policy as they were, the home untouched."""
    repo, outside = world["repo"], world["outside"]
    config = (repo / ".git" / "config").read_text()
    assert "fsmonitor" not in config, config
    assert (repo / ".harness" / "policy.toml").read_text() == 'mode = "ask"\n'
    assert sorted(p.name for p in outside.iterdir()) == ["host-tmp.txt"]
    assert (world["home"] / ".bashrc").read_text() == "# mine\n"
    assert (repo / ".env.local").read_text().startswith("API=SECRETVALUE")
    assert (repo / ".vscode" / "settings.json").read_text() == '{"editor.tabSize": 4}\n'
    assert not (repo / ".idea").exists()


def _table(seen: dict[str, bool]) -> str:
    return "\n".join(f"{'can   ' if ok else 'cannot'} {name}" for name, ok in seen.items())


@pytest.mark.usefixtures("require_bwrap")
async def test_what_a_command_reaches_under_bubblewrap(world) -> None:
    seen, result = await probe(world)
    assert result.data["sandbox"] == "bwrap"
    assert {n for n, ok in seen.items() if ok} == BWRAP_CAN, _table(seen)
    assert result.data["masked"] == [".env.local", "deploy/id_ed25519"]
    assert result.error_code == "protected_changed" and ".idea" in result.output
    _host_unchanged(world)


@pytest.mark.usefixtures("require_bwrap")
async def test_with_network_on_bubblewrap_reaches_tcp_but_no_socket_of_the_host(world) -> None:
    seen, _ = await probe(world, network=True)
    expected = BWRAP_CAN | {"connect TCP 127.0.0.1"}
    if sandbox.landlock() < 6:  # no Landlock scope here: abstract sockets share the netns
        expected |= {"connect abstract socket"}
    assert {n for n, ok in seen.items() if ok} == expected, _table(seen)
    _host_unchanged(world)


@pytest.fixture
def needs_landlock() -> None:
    require_capability(sandbox.landlock() >= 6, "Landlock ABI 6+", "a Linux kernel >= 6.7")


@pytest.mark.usefixtures("needs_landlock")
async def test_what_a_command_reaches_under_the_landlock_fallback(world, monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    seen, result = await probe(world)
    assert result.data["sandbox"] == "landlock"
    assert {n for n, ok in seen.items() if ok} == LANDLOCK_CAN, _table(seen)
    assert result.error_code == "protected_changed" and not result.ok
    assert ".git/config" in result.output and ".harness/policy.toml" in result.output
    _host_unchanged(world)  # the guard restored .git/config and .harness/policy.toml


@pytest.mark.usefixtures("needs_landlock")
async def test_with_network_on_landlock_reaches_tcp_only(world, monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    seen, _ = await probe(world, network=True)
    assert {n for n, ok in seen.items() if ok} == LANDLOCK_CAN | {"connect TCP 127.0.0.1"}
    _host_unchanged(world)
