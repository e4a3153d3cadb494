"""sandbox: contain what a shell command can reach, whatever the policy let through.

On Linux every shell tool call (and so every acceptance test) runs under bubblewrap: the root
filesystem read-only, the workspace and a private temp dir writable, no network unless the policy
says `network = true`, its own PID namespace (the daemon's `/proc/<pid>/environ` is out of sight
and every child, `setsid` ones included, dies with the call) and the data dir hidden behind an
empty tmpfs. bwrap is started from the already-scrubbed environment: inside the namespace its own
`/proc/1/environ` is readable. Where no sandbox works, commands run bare and the caller says so
once (`warnings()`), never silently.

Settings (`sandbox = "workspace-write" | "read-only" | "off"`, `network = true|false`) come from the
user's policy.toml in the data dir and the workspace's `.harness/policy.toml`; the workspace file
may only make them stricter unless its content is trusted.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness_ls.errors import InvalidInput

Mode = Literal["workspace-write", "read-only", "off"]
MODES: tuple[Mode, ...] = ("read-only", "workspace-write", "off")  # strictest first
INSTALL_HINT = "install bubblewrap (apt-get install bubblewrap)"
UNSANDBOXED = f"commands run unsandboxed: {INSTALL_HINT}"


@dataclass(frozen=True)
class Settings:
    mode: Mode = "workspace-write"
    network: bool = False
    ignored: tuple[str, ...] = ()  # workspace settings dropped because they would widen


def parse(doc: dict[str, Any], shown: str) -> tuple[Mode | None, bool | None]:
    """The `sandbox` and `network` keys of one policy file (None where absent)."""
    mode, network = doc.get("sandbox"), doc.get("network")
    if mode is not None and mode not in MODES:
        raise InvalidInput(
            f"{shown}: sandbox = {mode!r} is not a sandbox mode",
            hint='use "workspace-write" (default), "read-only" or "off"',
        )
    if network is not None and not isinstance(network, bool):
        raise InvalidInput(f"{shown}: network = {network!r} must be true or false")
    return mode, network


def merge(
    user: tuple[Mode | None, bool | None],
    workspace: tuple[Mode | None, bool | None],
    *,
    trusted: bool = False,
) -> Settings:
    """User settings, narrowed by the workspace's; a trusted workspace file may also widen."""
    mode: Mode = user[0] or "workspace-write"
    network = bool(user[1])
    ignored: list[str] = []
    ws_mode, ws_net = workspace
    if ws_mode is not None:
        if trusted or MODES.index(ws_mode) <= MODES.index(mode):
            mode = ws_mode
        else:
            ignored.append(f'sandbox = "{ws_mode}"')
    if ws_net is not None:
        if trusted or not ws_net or network:
            network = ws_net
        else:
            ignored.append("network = true")
    return Settings(mode, network, tuple(ignored))


def _read(path: Path, shown: str) -> tuple[Mode | None, bool | None]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            f"{shown}: cannot be read: {exc}", hint="fix or remove the file"
        ) from None
    return parse(doc, shown)


def load(workspace: Path, data_dir: Path | None, *, trusted: bool | None = None) -> Settings:
    """Effective settings for commands in `workspace`. Whether the workspace file may widen is
    decided on the very bytes parsed (`trusted` None), never on an earlier read of the file."""
    from harness_ls.trust import POLICY, read_config

    user = _read(Path(data_dir) / "policy.toml", "policy.toml") if data_dir else (None, None)
    file = read_config(workspace, POLICY, data_dir)
    ws: tuple[Mode | None, bool | None] = (None, None)
    if file.content is not None:
        try:
            ws = parse(tomllib.loads(file.text()), POLICY)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(
                f"{POLICY}: cannot be read: {exc}", hint="fix or remove the file"
            ) from None
    return merge(user, ws, trusted=file.trusted if trusted is None else trusted and file.trusted)


@functools.cache
def bwrap() -> str | None:
    """The bwrap binary if it exists *and* works here (user namespaces may be disabled).
    HARNESS_BWRAP names another binary (tests point it at a missing one)."""
    if not sys.platform.startswith("linux"):
        return None
    path = os.environ.get("HARNESS_BWRAP") or shutil.which("bwrap")
    if path is None and os.path.exists("/usr/bin/bwrap"):
        path = "/usr/bin/bwrap"  # PATH may be minimal in a service
    if path is None or not os.access(path, os.X_OK):
        return None
    probe = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
             "--unshare-net", "--die-with-parent", "true"]  # fmt: skip
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=10, env={}).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return path if ok else None


@functools.cache
def landlock() -> int:
    """The Landlock ABI the fallback would use; 0 when unavailable (or HARNESS_LANDLOCK=0)."""
    if os.environ.get("HARNESS_LANDLOCK") == "0":
        return 0
    from harness_ls.tools.landlock import abi

    return abi()


def kind() -> str:
    """What `wrap` would use: "bwrap", "landlock" or "none"."""
    return "bwrap" if bwrap() else "landlock" if landlock() else "none"


def availability() -> tuple[bool, str]:
    """(fully available, one line) for doctor and the start-up warning."""
    path = bwrap()
    if path:
        return True, f"bubblewrap ({path}): read-only root, writable workspace, no network"
    why = "bubblewrap not found"
    if shutil.which("bwrap") and not os.environ.get("HARNESS_BWRAP"):
        why = "bwrap is installed but cannot create namespaces here (user namespaces off?)"
    if landlock():
        return False, f"{why}; Landlock ABI {landlock()} only: writes and TCP limited, reads not"
    return False, f"{why}: commands run unsandboxed"


def warnings(settings: Settings) -> list[dict[str, str]]:
    """`log` event payloads to emit once per run/session: no sandbox, ignored widenings."""
    out = []
    if settings.mode != "off" and kind() == "none":
        out.append({"level": "warning", "code": "sandbox.unavailable", "message": UNSANDBOXED})
    elif settings.mode != "off" and kind() == "landlock":
        out.append({"level": "warning", "code": "sandbox.partial", "message": "commands run "
                    f"under Landlock only (reads and /proc not isolated): {INSTALL_HINT}"})  # fmt: skip
    for what in settings.ignored:
        out.append({
            "level": "warning",
            "code": "sandbox.widening_ignored",
            "message": f".harness/policy.toml sets {what}, which would loosen your sandbox; "
            "ignored (set it in the data dir's policy.toml, or trust the workspace policy)",
        })  # fmt: skip
    return out


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def wrap(
    argv: list[str],
    *,
    workspace: Path,
    tmpdir: Path,
    settings: Settings,
    data_dir: Path | None = None,
) -> list[str]:
    """`argv` under bwrap (else Landlock) per `settings`; unchanged when off or neither works."""
    exe = bwrap()
    if settings.mode == "off":
        return argv
    if exe is None:
        return _landlocked(argv, workspace=workspace, tmpdir=tmpdir, settings=settings)
    ws, tmp = str(workspace), str(tmpdir)
    cmd = [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    hide = Path(os.path.realpath(data_dir)) if data_dir else None
    hide_first = hide is not None and hide.is_dir() and _inside(workspace, hide)
    if hide_first:  # the workspace lives in the data dir: hide the rest of it, then bind it back
        cmd += ["--tmpfs", str(hide)]
    cmd += ["--bind" if settings.mode == "workspace-write" else "--ro-bind", ws, ws]
    if hide is not None and hide.is_dir() and not hide_first:
        cmd += ["--tmpfs", str(hide)]
    cmd += ["--bind", tmp, tmp, "--setenv", "TMPDIR", tmp, "--chdir", ws]
    cmd += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not settings.network:
        cmd.append("--unshare-net")
    cmd += ["--die-with-parent", "--new-session", "--", *argv]
    return cmd


def _landlocked(argv: list[str], *, workspace: Path, tmpdir: Path, settings: Settings) -> list[str]:
    if not landlock():
        return argv
    # the helper by path, isolated and without site: importing harness_ls.tools would cost 100s of ms
    helper = str(Path(__file__).with_name("landlock.py"))
    cmd = [sys.executable, "-I", "-S", helper, "--write", str(tmpdir)]
    if settings.mode == "workspace-write":
        cmd += ["--write", str(workspace)]
    if not settings.network:
        cmd.append("--no-network")
    return [*cmd, "--", *argv]
