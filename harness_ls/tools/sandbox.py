"""sandbox: contain what a shell command can reach, whatever the policy let through.

On Linux every shell tool call (and so every acceptance test) runs under bubblewrap
(tools/bubblewrap.py): the root filesystem read-only; the workspace writable except its `.git/`
(every repository's, and a `.git` file's gitdir) and `.harness/`, which are read-only; the
workspace's secret files (tools/secretfiles.py) replaced by an empty file unless that call was
approved for exactly that file; `$HOME` an empty tmpfs with toolchain directories bound read-only;
the host's `/tmp`, `/var/tmp` and `/run` (and so `/run/user`) empty; every other Unix socket outside
the workspace masked; no network unless the policy says `network = true`; its own PID namespace;
the data dir hidden. bwrap is started from the already-scrubbed environment: inside the namespace
its own `/proc/1/environ` is readable.

Where bubblewrap cannot run, a Landlock helper (tools/landlock.py) limits writes and reads and a
before/after check (tools/guard.py) restores `.git/` and `.harness/`; what that mode cannot enforce
is said once per run (`warnings()`) and in docs/security.md. Where neither works, commands run bare
and the caller says so, never silently.

Settings (`sandbox`, `network`, `home_allow`, `secret_files`, `output_limit_mb`, `timeout_max`)
come from the user's policy.toml in the data dir and the workspace's `.harness/policy.toml`; the
workspace file may only make them stricter unless its content is trusted.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import harness_ls.tools.bubblewrap as bubblewrap
import harness_ls.tools.wsscan as wsscan
from harness_ls.errors import InvalidInput
from harness_ls.tools.guard import Guard

Mode = Literal["workspace-write", "read-only", "off"]
MODES: tuple[Mode, ...] = ("read-only", "workspace-write", "off")  # strictest first
INSTALL_HINT = "install bubblewrap (apt-get install bubblewrap)"
UNSANDBOXED = f"commands run unsandboxed: {INSTALL_HINT}"
KEYS = frozenset(
    {"sandbox", "network", "home_allow", "secret_files", "output_limit_mb", "timeout_max"}
)  # fmt: skip - top-level policy.toml keys read here
OUTPUT_LIMIT = 16 * 1024 * 1024  # bytes a call may print before its process group is killed
TIMEOUT_MAX = 600.0  # seconds: the longest timeout a model may ask for
# Toolchain directories under $HOME the sandbox shows (read-only) when they exist: caches and
# installs, never credentials (~/.cargo/credentials.toml, ~/.m2/settings.xml stay out).
HOME_ALLOW = (
    ".cache/pip", ".cache/uv", ".cache/go-build", ".cache/yarn", ".cache/pypoetry",
    ".cache/pre-commit", ".cache/ms-playwright", ".local/bin", ".local/lib", ".local/share/uv",
    ".local/share/pnpm", ".npm/_cacache", ".nvm", ".volta", ".bun/bin", ".deno", ".cargo/bin",
    ".cargo/registry", ".cargo/git", ".rustup", "go/pkg/mod", "go/bin", ".pyenv", ".m2/repository",
    ".gradle/caches", ".gradle/wrapper", ".sdkman/candidates",
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    mode: Mode = "workspace-write"
    network: bool = False
    ignored: tuple[str, ...] = ()  # workspace settings dropped because they would widen
    home_allow: tuple[str, ...] = ()  # extra $HOME dirs shown read-only (`~/x` or absolute)
    secret_files: tuple[str, ...] = ()  # extra secret-file patterns (gitignore style)
    output_limit: int = OUTPUT_LIMIT
    timeout_max: float = TIMEOUT_MAX


def _strings(doc: dict[str, Any], key: str, shown: str) -> tuple[str, ...] | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(f"{shown}: {key} must be a list of non-empty strings",
                           hint=f'e.g. {key} = ["{_EXAMPLES[key]}"]')  # fmt: skip
    return tuple(value)


_EXAMPLES = {"home_allow": "~/.config/mytool", "secret_files": "config/*.secret"}


def _positive(doc: dict[str, Any], key: str, shown: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInput(
            f"{shown}: {key} = {value!r} must be a positive number",
            hint=f"e.g. {key} = {16 if key == 'output_limit_mb' else 600}",
        )
    if not math.isfinite(value):
        raise InvalidInput(f"{shown}: {key} must be finite")
    return float(value)


def parse(doc: dict[str, Any], shown: str) -> dict[str, Any]:
    """The sandbox keys of one policy file that are present, validated."""
    mode, network = doc.get("sandbox"), doc.get("network")
    if mode is not None and mode not in MODES:
        raise InvalidInput(
            f"{shown}: sandbox = {mode!r} is not a sandbox mode",
            hint='use "workspace-write" (default), "read-only" or "off"',
        )
    if network is not None and not isinstance(network, bool):
        raise InvalidInput(f"{shown}: network = {network!r} must be true or false")
    out = {"sandbox": mode, "network": network,
           "home_allow": _strings(doc, "home_allow", shown),
           "secret_files": _strings(doc, "secret_files", shown),
           "output_limit_mb": _positive(doc, "output_limit_mb", shown),
           "timeout_max": _positive(doc, "timeout_max", shown)}  # fmt: skip
    return {k: v for k, v in out.items() if v is not None}


def merge(user: dict[str, Any], workspace: dict[str, Any], *, trusted: bool = False) -> Settings:
    """User settings, narrowed by the workspace's; a trusted workspace file may also widen."""
    mode: Mode = user.get("sandbox") or "workspace-write"
    network = bool(user.get("network"))
    limit = user.get("output_limit_mb", OUTPUT_LIMIT / 2**20)
    tmax = user.get("timeout_max", TIMEOUT_MAX)
    home = tuple(user.get("home_allow", ()))
    ignored: list[str] = []
    ws_mode, ws_net = workspace.get("sandbox"), workspace.get("network")
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
    for key, value in (("output_limit_mb", limit), ("timeout_max", tmax)):
        ws_value = workspace.get(key)
        if ws_value is None:
            continue
        if trusted or ws_value <= value:
            limit, tmax = (ws_value, tmax) if key == "output_limit_mb" else (limit, ws_value)
        else:
            ignored.append(f"{key} = {ws_value:g}")
    if workspace.get("home_allow"):
        if trusted:
            home += workspace["home_allow"]
        else:
            ignored.append(f"home_allow = {list(workspace['home_allow'])}")
    secrets = tuple(dict.fromkeys((*user.get("secret_files", ()),
                                   *workspace.get("secret_files", ()))))  # fmt: skip
    return Settings(mode, network, tuple(ignored), home, secrets, int(limit * 2**20), tmax)


def _read(path: Path, shown: str) -> dict[str, Any]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            f"{shown}: cannot be read: {exc}", hint="fix or remove the file"
        ) from None
    return parse(doc, shown)


def load(workspace: Path, data_dir: Path | None, *, trusted: bool | None = None) -> Settings:
    """Effective settings for commands in `workspace`. Whether the workspace file may widen is
    decided on the very bytes parsed (`trusted` None), never on an earlier read of the file."""
    from harness_ls.trust import POLICY, read_config

    user = _read(Path(data_dir) / "policy.toml", "policy.toml") if data_dir else {}
    file = read_config(workspace, POLICY, data_dir)
    ws: dict[str, Any] = {}
    if file.content is not None:
        try:
            ws = parse(tomllib.loads(file.text()), POLICY)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(
                f"{POLICY}: cannot be read: {exc}", hint="fix or remove the file"
            ) from None
    return merge(user, ws, trusted=file.trusted if trusted is None else trusted and file.trusted)


def secret_patterns(workspace: Path | None, data_dir: Path | None) -> tuple[str, ...]:
    """The extra secret-file patterns of both policy files (adding one only narrows, so an
    untrusted workspace file counts), for the policy's read gate; bad files are reported where the
    sandbox settings are loaded. The workspace file is read the safe way (no FIFO, no giant)."""
    from harness_ls.trust import POLICY, read_config

    out: list[str] = []
    try:
        out += (
            _read(Path(data_dir) / "policy.toml", "policy.toml").get("secret_files", ())
            if data_dir
            else []
        )
    except InvalidInput:
        pass
    if workspace is not None:
        try:
            file = read_config(workspace, POLICY, data_dir)
            if file.content is not None:
                out += parse(tomllib.loads(file.text()), POLICY).get("secret_files", ())
        except (InvalidInput, tomllib.TOMLDecodeError):
            pass
    return tuple(dict.fromkeys(out))


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
        return True, (
            f"bubblewrap ({path}): read-only root, writable workspace (.git/ and "
            ".harness/ read-only, secret files masked), empty $HOME and /tmp, no network"
        )
    why = "bubblewrap not found"
    if shutil.which("bwrap") and not os.environ.get("HARNESS_BWRAP"):
        why = "bwrap is installed but cannot create namespaces here (user namespaces off?)"
    if landlock():
        return False, f"{why}; Landlock ABI {landlock()} only: {LANDLOCK_LIMITS}"
    return False, f"{why}: commands run unsandboxed"


LANDLOCK_LIMITS = (
    "writes outside the workspace, reads of $HOME, the data dir, /tmp and secret files, and TCP "
    "are blocked; Unix sockets by path stay reachable and .git/ and .harness/ are restored after "
    "a call instead of being read-only"
)


def warnings(settings: Settings) -> list[dict[str, str]]:
    """`log` event payloads to emit once per run/session: no sandbox, ignored widenings."""
    out = []
    if settings.mode != "off" and kind() == "none":
        out.append({"level": "warning", "code": "sandbox.unavailable", "message": UNSANDBOXED})
    elif settings.mode != "off" and kind() == "landlock":
        out.append({"level": "warning", "code": "sandbox.partial", "message": "commands run "
                    f"under Landlock only ({LANDLOCK_LIMITS}): {INSTALL_HINT}"})  # fmt: skip
    for what in settings.ignored:
        out.append({
            "level": "warning",
            "code": "sandbox.widening_ignored",
            "message": f".harness/policy.toml sets {what}, which would loosen your sandbox; "
            "ignored (set it in the data dir's policy.toml, or trust the workspace policy)",
        })  # fmt: skip
    return out


@dataclass
class Boxed:
    """A command ready to start: its argv, what contains it, and (Landlock) the guard to check
    after it ended."""

    argv: list[str]
    kind: str  # "bwrap", "landlock", "none" or "off"
    guard: Guard | None = None
    masked: tuple[str, ...] = ()  # secret files the command sees empty (or cannot read)
    env: dict[str, str] = field(default_factory=dict)  # environment changes the box needs


def prepare(
    argv: list[str],
    *,
    workspace: Path,
    tmpdir: Path,
    settings: Settings,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    reveal: Callable[[str], bool] | frozenset[str] = frozenset(),
) -> Boxed:
    """`argv` under bwrap (else Landlock) per `settings`. `reveal`: the secret files
    (workspace-relative) this call may see — the ones it was approved for, or a rule allows."""
    if settings.mode == "off":
        return Boxed(argv, "off")
    exe = bwrap()
    if exe is None and not landlock():
        return Boxed(argv, "none")
    ws = os.path.realpath(workspace)
    scan = wsscan.scan(ws, settings.secret_files)
    visible = reveal if callable(reveal) else reveal.__contains__
    masked = tuple(s for s in scan.secrets if not visible(s))
    home = bubblewrap.home_dir(env)
    tools = bubblewrap.toolchain_dirs(home, HOME_ALLOW, settings.home_allow) if home else []
    data = os.path.realpath(data_dir) if data_dir else None
    if exe is not None:
        present, absent = bubblewrap.editor_settings(ws)  # once: the mounts and guard agree
        cmd = bubblewrap.argv_for(
            exe, argv, ws=ws, tmp=str(tmpdir), writable=settings.mode == "workspace-write",
            network=settings.network, data_dir=data, home=home, toolchains=tools, scan=scan,
            masked=masked, editors=present,
        )  # fmt: skip
        if settings.network and landlock() >= 6:  # abstract sockets share the host's netns
            cmd = [*_helper(), "--scope", "--exec", "--", *cmd]
        writable = settings.mode == "workspace-write"
        guard = Guard(ws, [], absent).take() if absent and writable else None
        return Boxed(cmd, "bwrap", guard, masked=masked)
    return _landlocked(argv, ws, str(tmpdir), settings, data, home, tools, scan, masked)


def wrap(
    argv: list[str],
    *,
    workspace: Path,
    tmpdir: Path,
    settings: Settings,
    data_dir: Path | None = None,
) -> list[str]:
    """`argv` under bwrap (else Landlock) per `settings`; unchanged when off or neither works."""
    return prepare(
        argv, workspace=workspace, tmpdir=tmpdir, settings=settings, data_dir=data_dir
    ).argv


def _helper() -> list[str]:
    # by path, isolated and without site: importing harness_ls.tools would cost 100s of ms
    return [sys.executable, "-I", "-S", str(Path(__file__).with_name("landlock.py"))]


def _landlocked(
    argv: list[str],
    ws: str,
    tmp: str,
    settings: Settings,
    data: str | None,
    home: str | None,
    tools: list[str],
    scan: wsscan.Scan,
    masked: tuple[str, ...],
) -> Boxed:
    writable = settings.mode == "workspace-write"
    cmd = [*_helper(), "--write", tmp, *(["--write", ws] if writable else [])]
    deny = [p for p in (*bubblewrap.SHARED, tempfile.gettempdir(), home, data) if p]
    deny += [os.path.join(ws, rel) for rel in masked] + list(scan.outside)
    allow = [ws, tmp, *tools, *bubblewrap.resolver(deny)]
    for path in dict.fromkeys(os.path.realpath(p) for p in deny):
        cmd += ["--deny-read", path]
    for path in dict.fromkeys(allow):
        cmd += ["--allow-read", path]
    cmd.append("--scope")
    if not settings.network:
        cmd.append("--no-network")
    env = {"HOME": _stand_in_home(tmp, home, tools)} if home else {}
    guard = None
    if writable:
        gits = bubblewrap.gitdirs(ws, scan)
        present, absent = bubblewrap.editor_settings(ws)
        others = [*bubblewrap.harness_dir(ws), *(os.path.join(ws, r) for r in masked)]
        others += [*present, *absent]
        guard = Guard(ws, gits, others).take()
    return Boxed([*cmd, "--", *argv], "landlock", guard, masked, env)


def _stand_in_home(tmp: str, home: str, tools: list[str]) -> str:
    """Landlock cannot show an empty $HOME over the real one, and reading a denied `~/.gitconfig`
    is an error to git: the command gets a writable stand-in in its TMPDIR instead, with links to
    the toolchain directories at their usual places (`~/.cargo/bin` -> the real one)."""
    stand_in = os.path.join(tmp, "home")
    os.makedirs(stand_in, exist_ok=True)
    for real in tools:
        link = os.path.join(stand_in, os.path.relpath(real, home))
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink(real, link)
    return stand_in
