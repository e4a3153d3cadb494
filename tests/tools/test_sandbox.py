"""sandbox: real bubblewrap around real shell tool calls — what a command can and cannot reach.

Skipped (with the reason) where bubblewrap cannot run; on this project's CI it is installed.
"""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from harness_ls.errors import InvalidInput
from harness_ls.tools import TOOLS, Policy, ToolContext, sandbox
from tests.conftest import require_capability

shell = TOOLS["shell"]
needs_bwrap = pytest.mark.usefixtures("require_bwrap")  # a failure under CI / make test


def ctx_for(repo: Path, data_dir: Path | None = None, **settings) -> ToolContext:
    return ToolContext(
        workspace=repo, data_dir=data_dir, extra={"sandbox": sandbox.Settings(**settings)}
    )


@needs_bwrap
async def test_writes_outside_the_workspace_fail_read_only_file_system(
    repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "escaped.txt"
    r = await shell.run(
        ctx_for(repo), {"command": f"echo x > {outside}; touch /etc/pwned; echo in > inside.txt"}
    )
    assert "Read-only file system" in r.output, r.output
    assert not outside.exists() and not Path("/etc/pwned").exists()
    assert (repo / "inside.txt").read_text() == "in\n"  # the workspace stays writable
    assert r.data["sandbox"] == "bwrap" and r.data["network"] is False


@needs_bwrap
async def test_private_tmpdir_is_writable_and_removed_after_the_call(repo: Path) -> None:
    r = await shell.run(ctx_for(repo), {"command": 'echo hi > "$TMPDIR/f" && echo "$TMPDIR"'})
    assert r.ok, r.output
    tmp = Path(r.output.splitlines()[-1])
    assert tmp.name.startswith("harness-sh-") and not tmp.exists()


@needs_bwrap
async def test_read_only_mode_also_protects_the_workspace(repo: Path) -> None:
    r = await shell.run(
        ctx_for(repo, mode="read-only"), {"command": "touch new.txt; cat README.md"}
    )
    assert "Read-only file system" in r.output and "Hello world" in r.output
    assert not (repo / "new.txt").exists()


async def test_off_mode_runs_bare(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "escaped.txt"
    r = await shell.run(ctx_for(repo, mode="off"), {"command": f"echo x > {outside}"})
    assert r.ok and outside.read_text() == "x\n" and r.data["sandbox"] == "off"


def _listener() -> socket.socket:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    return srv


@needs_bwrap
async def test_no_network_unless_the_policy_allows_it(repo: Path) -> None:
    srv = _listener()
    port = srv.getsockname()[1]
    probe = f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"
    try:
        denied = await shell.run(ctx_for(repo), {"command": probe})
        assert not denied.ok and "connected" not in denied.output, denied.output
        allowed = await shell.run(ctx_for(repo, network=True), {"command": probe})
        assert allowed.ok and "connected" in allowed.output, allowed.output
    finally:
        srv.close()


@needs_bwrap
async def test_setsid_children_die_with_the_call(repo: Path) -> None:
    marker = repo / "survived"
    cmd = f"setsid sh -c 'sleep 1; touch {marker}' > /dev/null 2>&1 & nohup sleep 300 & echo bg"
    r = await shell.run(ctx_for(repo), {"command": cmd})
    assert r.ok and "bg" in r.output
    await asyncio.sleep(1.5)
    assert not marker.exists(), "a setsid child outlived the tool call"


@needs_bwrap
async def test_the_sandbox_sees_no_secret_and_not_the_daemon(repo: Path) -> None:
    ctx = ToolContext(
        workspace=repo,
        env={"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-never-inside-1234567890"},
        extra={"sandbox": sandbox.Settings()},
    )
    cmd = "cat /proc/1/environ /proc/$PPID/environ | tr '\\0' '\\n'; ls /proc | grep -c '^[0-9]'"
    r = await shell.run(ctx, {"command": cmd})
    assert r.ok and "sk-never-inside" not in r.output and "PATH=/usr/bin:/bin" in r.output
    assert int(r.output.splitlines()[-1]) <= 4  # bwrap's init, bash, cat/ls, grep: no daemon


@needs_bwrap
async def test_the_data_dir_is_hidden(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "runs").mkdir(parents=True)
    (data / "policy.toml").write_text('mode = "ask"\n')
    r = await shell.run(ctx_for(repo, data), {"command": f"ls -A {data}; cat {data}/policy.toml"})
    assert "runs" not in r.output and "mode" not in r.output and "No such file" in r.output


def test_workspace_settings_may_only_narrow() -> None:
    user = {"sandbox": "workspace-write", "network": False}
    assert sandbox.merge(user, {"sandbox": "read-only"}) == sandbox.Settings("read-only", False)
    lax = sandbox.merge(user, {"sandbox": "off", "network": True})
    assert lax.mode == "workspace-write" and lax.network is False
    assert lax.ignored == ('sandbox = "off"', "network = true")
    trusted = sandbox.merge(user, {"sandbox": "off", "network": True}, trusted=True)
    assert trusted == sandbox.Settings("off", True)
    assert sandbox.merge({"sandbox": "off", "network": True},
                         {"sandbox": "workspace-write", "network": False}) == sandbox.Settings()  # fmt: skip
    assert sandbox.merge({}, {}) == sandbox.Settings()
    warnings = sandbox.warnings(lax)
    assert [w["code"] for w in warnings][-2:] == ["sandbox.widening_ignored"] * 2


def test_limits_home_and_secret_patterns_narrow_unless_trusted() -> None:
    user = {"output_limit_mb": 8, "timeout_max": 300, "home_allow": ("~/.config/tool",)}
    ws = {"output_limit_mb": 64, "timeout_max": 60, "home_allow": ("~/.ssh",),
          "secret_files": ("config/*.secret",)}  # fmt: skip
    got = sandbox.merge(user, ws)
    assert got.output_limit == 8 * 2**20 and got.timeout_max == 60  # lower: kept
    assert got.home_allow == ("~/.config/tool",) and got.secret_files == ("config/*.secret",)
    assert got.ignored == ("output_limit_mb = 64", "home_allow = ['~/.ssh']")
    wide = sandbox.merge(user, ws, trusted=True)
    assert wide.output_limit == 64 * 2**20 and wide.home_allow == ("~/.config/tool", "~/.ssh")
    defaults = sandbox.Settings()
    assert defaults.output_limit == 16 * 2**20 and defaults.timeout_max == 600


def test_settings_load_from_both_files_and_policy_accepts_the_keys(tmp_path: Path) -> None:
    ws, data = tmp_path / "ws", tmp_path / "data"
    (ws / ".harness").mkdir(parents=True)
    data.mkdir()
    (data / "policy.toml").write_text('sandbox = "workspace-write"\nnetwork = true\n')
    (ws / ".harness" / "policy.toml").write_text('sandbox = "read-only"\n[allow]\nread = ["*"]\n')
    assert sandbox.load(ws, data) == sandbox.Settings("read-only", True)
    assert Policy.load(ws, data).mode == "ask"
    (ws / ".harness" / "policy.toml").write_text('sandbox = "none"\n')
    with pytest.raises(InvalidInput, match="not a sandbox mode"):
        sandbox.load(ws, data)
    (ws / ".harness" / "policy.toml").write_text('network = "yes"\n')
    with pytest.raises(InvalidInput, match="true or false"):
        sandbox.load(ws, data)
    for bad, what in (("output_limit_mb = -1", "positive"), ("timeout_max = true", "positive"),
                      ("home_allow = [1]", "list of non-empty strings")):  # fmt: skip
        (ws / ".harness" / "policy.toml").write_text(bad + "\n")
        with pytest.raises(InvalidInput, match=what):
            sandbox.load(ws, data)
    (ws / ".harness" / "policy.toml").write_text(
        'secret_files = ["*.secret"]\n[allow]\nread = ["*"]\n'
    )
    assert Policy.load(ws, data).secret_patterns == ("*.secret",)


def test_unavailable_sandbox_is_said_with_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    monkeypatch.setattr(sandbox, "landlock", lambda: 0)
    (w,) = sandbox.warnings(sandbox.Settings())
    assert w["code"] == "sandbox.unavailable" and "apt-get install bubblewrap" in w["message"]
    assert sandbox.warnings(sandbox.Settings("off")) == []


@pytest.fixture
def landlock_only(monkeypatch):
    """bubblewrap unavailable, as on a machine without it: the Landlock fallback takes over."""
    require_capability(
        sandbox.landlock() > 0, "Landlock in the kernel", "a Linux kernel >= 5.13 with Landlock on"
    )
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)


async def test_landlock_fallback_limits_writes_network_and_children(
    landlock_only, repo: Path, tmp_path: Path
) -> None:
    srv = _listener()
    port = srv.getsockname()[1]
    marker, outside = repo / "survived", tmp_path / "escaped.txt"
    cmd = (f"echo x > {outside}; echo in > inside.txt; echo t > $TMPDIR/t && echo tmp-ok; "
           f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected; "
           f"setsid sh -c 'sleep 1; touch {marker}' > /dev/null 2>&1 & echo bg")  # fmt: skip
    try:
        r = await shell.run(ctx_for(repo), {"command": cmd})
    finally:
        srv.close()
    assert r.data["sandbox"] == "landlock", r.data
    assert "Permission denied" in r.output and not outside.exists(), r.output
    assert (repo / "inside.txt").read_text() == "in\n" and "tmp-ok" in r.output
    if sandbox.landlock() >= 4:
        assert "connected" not in r.output
    await asyncio.sleep(1.5)
    assert not marker.exists(), "a setsid child outlived the call under Landlock"
    (w,) = sandbox.warnings(sandbox.Settings())
    assert w["code"] == "sandbox.partial" and "apt-get install bubblewrap" in w["message"]
