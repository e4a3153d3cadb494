"""shell: cwd, exit codes, timeouts that kill the process group, capped output, scrubbed env."""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, ToolContext, scrub_env
from harness_ls.tools.shell import is_secret_name

shell = TOOLS["shell"]


async def test_runs_in_workspace_and_reports_exit_code(ctx: ToolContext, repo: Path) -> None:
    ok = await shell.run(ctx, {"command": "pwd && ls"})
    assert ok.ok and ok.data["exit_code"] == 0 and str(repo.resolve()) in ok.output
    bad = await shell.run(ctx, {"command": "echo oops >&2; exit 3"})
    assert not bad.ok and bad.error_code == "exit_code" and bad.data["exit_code"] == 3
    assert "oops" in bad.output and bad.output.startswith("exit code 3")


async def test_timeout_kills_the_whole_process_group(ctx: ToolContext, repo: Path) -> None:
    marker = repo / "survived"
    # wait_for guards a hang only (the command alone would take 30 s)
    result = await asyncio.wait_for(
        shell.run(ctx, {"command": f"(sleep 1; touch {marker}) & sleep 30", "timeout": 0.3}), 10
    )
    assert result.error_code == "timeout" and result.data["timed_out"]
    await asyncio.sleep(1.5)
    assert not marker.exists(), "a child of the timed-out command kept running"


async def test_background_children_do_not_hang_the_call(ctx: ToolContext) -> None:
    # the background sleep would hold the call 30 s if the tool waited for it
    result = await asyncio.wait_for(shell.run(ctx, {"command": "sleep 30 & echo started"}), 10)
    assert result.ok and result.output.splitlines()[-1] == "started"


async def test_cancel_kills_the_process_group(ctx: ToolContext, repo: Path) -> None:
    # pids inside the sandbox's PID namespace mean nothing outside it: watch a marker file instead
    started, marker = repo / "started", repo / "survived"
    command = f"(touch {started}; sleep 1; touch {marker}) & wait"
    task = asyncio.create_task(shell.run(ctx, {"command": command}))
    for _ in range(100):
        if started.exists():
            break
        await asyncio.sleep(0.05)
    assert started.exists()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(1.5)
    assert not marker.exists(), "a child of the cancelled command kept running"


async def test_output_is_cut_in_the_middle(repo: Path) -> None:
    ctx = ToolContext(workspace=repo, output_cap=1000)
    result = await shell.run(ctx, {"command": "seq 1 20000"})
    assert result.ok and "bytes of output cut" in result.output
    assert result.output.startswith("exit code 0\n1\n2\n") and result.output.endswith(
        "19999\n20000"
    )
    assert len(result.output) < 1200 and result.data["cut_bytes"] > 100_000


async def test_provider_keys_and_auth_token_are_not_visible(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-should-not-leak")
    monkeypatch.setenv("HARNESS_AUTH_TOKEN", "tok-should-not-leak")
    monkeypatch.setenv("MY_SERVICE_SECRET", "s3cret-should-not-leak")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    ctx = ToolContext(workspace=repo)
    result = await shell.run(ctx, {"command": "env"})
    assert "should-not-leak" not in result.output
    assert "HARMLESS_SETTING=visible" in result.output and "PATH=" in result.output


async def test_context_env_replaces_the_base_environment(repo: Path) -> None:
    ctx = ToolContext(
        workspace=repo, env={"PATH": os.environ["PATH"], "ANTHROPIC_API_KEY": "x", "A": "1"}
    )
    result = await shell.run(ctx, {"command": "env"})
    assert "A=1" in result.output and "ANTHROPIC_API_KEY" not in result.output


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "HARNESS_AUTH_TOKEN",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "DB_PASSWORD",
        "client_secret",
        "API_KEY",
        "HF_TOKEN",
        "AZURE_OPENAI_API_KEY",
    ],
)
def test_secret_names_are_scrubbed(name: str) -> None:
    assert is_secret_name(name) and name not in scrub_env({name: "x"})


@pytest.mark.parametrize(
    "name", ["PATH", "HOME", "LANG", "TOKENIZERS_PARALLELISM", "KEYBOARD", "VIRTUAL_ENV"]
)
def test_ordinary_names_are_kept(name: str) -> None:
    assert not is_secret_name(name) and scrub_env({name: "x"})[name] == "x"


def test_preview_shows_the_command(ctx: ToolContext) -> None:
    preview = shell.preview(ctx, {"command": "pytest -q tests"})
    assert (
        preview.kind == "shell"
        and preview.command == "pytest -q tests"
        and "pytest -q tests" in preview.summary
    )


async def test_invalid_timeout_is_an_argument_error(ctx: ToolContext) -> None:
    result = await shell.run(ctx, {"command": "true", "timeout": -1})
    assert result.error_code == "invalid_args" and "timeout" in result.output


@pytest.mark.parametrize(
    "name",
    ["SSH_AUTH_SOCK", "SSH_AGENT_PID", "DBUS_SESSION_BUS_ADDRESS", "GPG_AGENT_INFO",
     "XDG_RUNTIME_DIR", "KRB5CCNAME", "DISPLAY", "WAYLAND_DISPLAY", "DOCKER_HOST",
     "GOOGLE_APPLICATION_CREDENTIALS", "VSCODE_IPC_HOOK_CLI", "GIT_ASKPASS"],
)  # fmt: skip
def test_handles_to_the_users_session_are_scrubbed(name: str) -> None:
    assert name not in scrub_env({name: "/run/user/1000/x", "PATH": "/bin"}, session=True)
    if not is_secret_name(name):
        assert name in scrub_env({name: "/run/user/1000/x"})  # your hooks keep them


async def test_unbounded_output_is_killed_at_the_limit_and_never_spooled(
    repo: Path, tmp_path: Path
) -> None:
    """Row 7 of issue 31: `seq 1 99999999999` wrote 1.2 GiB into the host's temp dir."""
    from harness_ls.tools import sandbox

    spool = tmp_path / "spool"
    spool.mkdir()
    ctx = ToolContext(workspace=repo, shell_timeout=60, env={**os.environ, "TMPDIR": str(spool)},
                      extra={"sandbox": sandbox.Settings(output_limit=2 * 2**20)})  # fmt: skip
    before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    result = await asyncio.wait_for(shell.run(ctx, {"command": "seq 1 99999999999"}), 30)
    assert result.error_code == "output_limit" and not result.ok
    assert result.output.startswith("output truncated at 2 MiB (process group killed)")
    assert result.data["truncated"] and result.data["output_bytes"] > 2 * 2**20
    assert result.data["output_bytes"] < 8 * 2**20  # stopped near the limit, not at the end
    assert len(result.output) < 40_000 and result.output.rstrip().split("\n")[1] == "1"
    assert list(spool.iterdir()) == []
    grew = set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - before
    assert not [n for n in grew if n.startswith("tmp")], grew  # no spool file left behind


async def test_the_model_cannot_raise_its_timeout_past_the_users_cap(repo: Path) -> None:
    from harness_ls.tools import sandbox

    ctx = ToolContext(workspace=repo, extra={"sandbox": sandbox.Settings(timeout_max=0.5)})
    preview = shell.preview(ctx, {"command": "sleep 30", "timeout": 3600})
    assert "(timeout 0.5s)" in preview.summary
    result = await asyncio.wait_for(shell.run(ctx, {"command": "sleep 30", "timeout": 3600}), 10)
    assert result.error_code == "timeout" and "timed out after 0.5s" in result.output
    assert result.output.startswith("(timeout capped at 0.5s by your policy)")


async def test_an_escaped_background_child_does_not_hang_an_unsandboxed_call(repo: Path) -> None:
    """With the sandbox off a `setsid` child leaves the process group and keeps the output
    pipe open; the call still returns (after a short drain), with the shell's output."""
    from harness_ls.tools import sandbox

    ctx = ToolContext(workspace=repo, extra={"sandbox": sandbox.Settings("off")})
    command = "setsid sh -c 'sleep 3; echo late' & echo started"
    result = await asyncio.wait_for(shell.run(ctx, {"command": command}), 10)
    assert result.ok and "started" in result.output and "late" not in result.output
