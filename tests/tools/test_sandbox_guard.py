"""Protected paths below the text: bubblewrap mounts `.git/` and `.harness/` read-only and masks
secret files; the Landlock fallback restores what a command changed there and fails the call.
Every class of change is tried in both modes: in-place edits, new hooks, replacing a file with a
symlink, deleting the repository, a nested repository, a `.git` file's gitdir."""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, ToolContext, sandbox
from harness_ls.tools.guard import Guard
from tests.conftest import require_capability

shell = TOOLS["shell"]
MODES = ["bwrap", "landlock"]
LANDLOCK_HOW = "a Linux kernel >= 5.13 with Landlock on"


@pytest.fixture
def needs_landlock() -> None:
    require_capability(sandbox.landlock() > 0, "Landlock in the kernel", LANDLOCK_HOW)


@pytest.fixture(params=MODES)
def mode(request, monkeypatch) -> str:
    if request.param == "landlock":
        request.getfixturevalue("needs_landlock")
        monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    else:
        request.getfixturevalue("require_bwrap")
    return request.param


def _git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(ws), *args], capture_output=True, text=True).stdout


async def _run(ws: Path, command: str, **extra) -> object:
    ctx = ToolContext(workspace=ws, extra={"sandbox": sandbox.Settings(), **extra})
    return await shell.run(ctx, {"command": command})


@pytest.fixture
def ws(repo: Path) -> Path:
    (repo / ".harness").mkdir()
    (repo / ".harness" / "policy.toml").write_text('mode = "ask"\n')
    (repo / ".env").write_text("DB_PASSWORD=correct-horse-battery\n")
    (repo / "lib").mkdir()
    _git(repo / "lib", "init", "-q")  # a nested repository
    return repo


ATTACKS = {
    "in-place config": "git config core.fsmonitor 'touch /tmp/pwned'",
    "new hook": "printf '#!/bin/sh\\ntouch /tmp/pwned\\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit",
    "config replaced by a symlink": "rm -f .git/config && ln -s ../evil.cfg .git/config",
    "hooks dir replaced by a symlink": "rm -rf .git/hooks && ln -s ../evilhooks .git/hooks",
    "nested repository": "git -C lib config core.pager 'touch /tmp/pwned'",
    "harness policy": "echo '[allow]' >> .harness/policy.toml",
    "secret overwritten": "echo 'DB_PASSWORD=x' > .env",
}  # fmt: skip


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_protected_paths_cannot_be_changed(mode: str, ws: Path, attack: str) -> None:
    (ws / "evil.cfg").write_text("[core]\n\tfsmonitor = touch /tmp/pwned\n")
    (ws / "evilhooks").mkdir()
    before = {p: (ws / p).read_bytes() for p in (".git/config", "lib/.git/config",
                                                 ".harness/policy.toml", ".env")}  # fmt: skip
    hooks = sorted(p.name for p in (ws / ".git" / "hooks").iterdir())
    r = await _run(ws, ATTACKS[attack])
    assert r.data["sandbox"] == mode
    assert not r.ok
    if mode == "landlock":
        assert r.error_code == "protected_changed", r.output
        assert "restored" in r.output
    for path, content in before.items():
        assert not (ws / path).is_symlink() and (ws / path).read_bytes() == content, path
    assert not (ws / ".git" / "hooks").is_symlink()
    assert sorted(p.name for p in (ws / ".git" / "hooks").iterdir()) == hooks
    assert "fsmonitor" not in _git(ws, "config", "--list", "--local")


async def test_an_approved_call_sees_the_secret_it_names_and_no_other(mode: str, ws: Path) -> None:
    (ws / ".npmrc").write_text("//r/:_authToken=npm_abcdefghij0123456789\n")
    hidden = await _run(ws, "cat .env; cat .npmrc; echo end")
    assert "correct-horse" not in hidden.output and "npm_abc" not in hidden.output
    assert hidden.data["masked"] == [".env", ".npmrc"]
    shown = await _run(ws, "cat .env; cat .npmrc; echo end", reveal=frozenset({".env"}))
    assert "DB_PASSWORD=correct-horse-battery" in shown.output and "npm_abc" not in shown.output


@pytest.mark.usefixtures("needs_landlock")
async def test_landlock_guard_puts_a_deleted_repository_back_and_reports_state(
    monkeypatch, ws: Path
) -> None:
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    head = _git(ws, "rev-parse", "HEAD")
    r = await _run(ws, "rm -rf .git/config .git/hooks .git/HEAD .git/refs")
    assert r.error_code == "protected_changed"
    assert _git(ws, "rev-parse", "HEAD") == head  # HEAD and refs were deleted: put back
    assert (ws / ".git" / "config").is_file() and (ws / ".git" / "hooks").is_dir()


@pytest.mark.usefixtures("needs_landlock")
async def test_landlock_guard_reports_but_keeps_git_state_changes(monkeypatch, ws: Path) -> None:
    """A commit from the user's own terminal during the call must not be rolled back; the guard
    says the state changed and leaves it."""
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    r = await _run(ws, "git commit -q --allow-empty -m agent")
    assert r.error_code == "protected_changed", r.output
    assert "changed git state" in r.output and ".git/refs/heads/main" in r.output
    assert _git(ws, "log", "-1", "--format=%s").strip() == "agent"  # left as it is


def test_guard_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / "sub" / ".env").write_text("A=1\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    guard = Guard(str(ws), [], [str(ws / "sub" / ".env")]).take()
    (ws / "sub" / ".env").unlink()
    (ws / "sub").rmdir()
    (ws / "sub").symlink_to(elsewhere)  # the parent now leads out of the workspace
    out = guard.check()
    assert out and not (elsewhere / ".env").exists()
    assert "sub/.env" in out.lost


async def test_a_secret_your_rule_allows_is_visible_to_every_command(mode: str, ws: Path) -> None:
    """`[allow] read = [".env"]` in your policy: the loop passes Policy.secret_allowed."""
    r = await _run(ws, "cat .env", unmask=lambda rel: rel == ".env")
    assert "correct-horse-battery" in r.output and "masked" not in r.data


async def test_a_symlinked_harness_dir_is_protected_where_it_points(mode: str, repo: Path) -> None:
    (repo / "cfg").mkdir()
    (repo / "cfg" / "policy.toml").write_text('mode = "ask"\n')
    (repo / ".harness").symlink_to("cfg")
    r = await _run(
        repo, "echo '[allow]' >> cfg/policy.toml; echo '[allow]' >> .harness/policy.toml"
    )
    assert not r.ok
    assert (repo / "cfg" / "policy.toml").read_text() == 'mode = "ask"\n'


async def test_a_secret_reached_through_a_dotenv_link_is_masked_inside_and_out(
    mode: str, repo: Path, tmp_path: Path
) -> None:
    """`.env -> config/settings` and `.env.prod -> /srv/app/env`: the link's name says what the
    target holds, so the target is masked where it lives (and read_file refuses it by name)."""
    (repo / "config").mkdir()
    (repo / "config" / "settings").write_text("API_TOKEN=inside-0123456789abcdef\n")
    (repo / ".env").symlink_to("config/settings")
    srv = Path(tempfile.mkdtemp(prefix=".srv-", dir=Path(__file__).parent))  # not under /tmp
    try:
        (srv / "env").write_text("API_TOKEN=outside-0123456789abcdef\n")
        (repo / ".env.prod").symlink_to(srv / "env")
        r = await _run(repo, f"cat .env config/settings .env.prod {srv}/env; echo end")
        assert "inside-" not in r.output and "outside-" not in r.output, r.output
        read = await TOOLS["read_file"].run(
            ToolContext(workspace=repo), {"path": "config/settings"}
        )
        assert read.error_code == "refused"
    finally:
        shutil.rmtree(srv)
