"""The bubblewrap command line for one shell call: what the command sees of the machine.

Mounts, in order (a later mount covers an earlier one):
1. the root read-only, a fresh `/dev` and `/proc` (own PID namespace);
2. empty tmpfs over the places processes share: the host's `/tmp`, `/var/tmp`, `/run` (with it
   `/run/user/<uid>`: D-Bus, ssh/gpg agents, keyrings) and `$HOME`; toolchain directories of
   `$HOME` are bound back read-only; the data dir is hidden;
3. every other Unix socket the host has bound (`/proc/net/unix`) outside the workspace covered by
   an empty file, so `connect()` finds nothing;
4. the workspace (writable, or read-only in `read-only` mode), then its `.git` entries (every
   repository's, a `.git` file's gitdir and common dir when inside the workspace) and
   `.harness/` and the editor settings that exist (`.vscode/`, `.nvim.lua`…) read-only, then an
   empty file over each secret file not revealed for this call (editor settings that do not
   exist yet are watched by tools/guard.py instead: a mount point would show up in the editor);
5. the private TMPDIR.
Abstract Unix sockets live in the network namespace: `--unshare-net` takes them away with the
network; with `network = true` a Landlock scope (ABI 6+) closes them (tools/landlock.py).
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Sequence
from functools import cache

from harness_ls.tools.protected import EDITOR_DIRS, EDITOR_FILES
from harness_ls.tools.wsscan import Scan

SHARED = ("/tmp", "/var/tmp", "/run")  # host places other processes leave sockets and files in
_RESOLV = "/etc/resolv.conf"


def within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def empty_file() -> str:
    """A read-only empty file (and next to it an empty directory) to bind over what is masked;
    made again if a temp cleaner removed it."""
    path = _empty_file()
    if not os.path.isfile(path):
        _empty_file.cache_clear()
        path = _empty_file()
    return path


@cache
def _empty_file() -> str:
    base = tempfile.mkdtemp(prefix="harness-mask-")
    path = os.path.join(base, "empty")
    with open(path, "wb"):
        pass
    os.mkdir(os.path.join(base, "dir"), 0o555)
    os.chmod(path, 0o444)
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    return path


def empty_dir() -> str:
    return os.path.join(os.path.dirname(empty_file()), "dir")


def home_dir(env: dict[str, str] | None) -> str | None:
    """The command's $HOME, when it is a real directory other than `/`."""
    home = (env or {}).get("HOME") or os.environ.get("HOME") or ""
    if not home.startswith("/"):
        return None
    real = os.path.realpath(home)
    return real if real != "/" and os.path.isdir(real) else None


_toolchain_cache: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[float, list[str]]] = {}
TOOLCHAIN_TTL = 10.0  # seconds a looked-up list is reused (bound with --ro-bind-try: may vanish)


def toolchain_dirs(home: str, defaults: tuple[str, ...], extra: tuple[str, ...]) -> list[str]:
    """Existing allow-listed directories under `home` (`~/x`, `x` or an absolute path in it)."""
    key = (home, defaults, extra)
    hit = _toolchain_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < TOOLCHAIN_TTL:
        return hit[1]
    out: list[str] = []
    for entry in (*defaults, *extra):
        path = entry[2:] if entry.startswith("~/") else entry
        full = os.path.realpath(path if path.startswith("/") else os.path.join(home, path))
        if within(full, home) and full != home and os.path.isdir(full) and full not in out:
            out.append(full)
    _toolchain_cache[key] = (time.monotonic(), out)
    return out


def unix_sockets() -> list[str]:
    """Paths of the Unix sockets bound in this network namespace (abstract ones excluded)."""
    try:
        with open("/proc/net/unix", "rb") as fh:
            lines = fh.read().decode("utf-8", "replace").splitlines()[1:]
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split(None, 7)
        if len(fields) == 8 and fields[7].startswith("/"):
            found.append(fields[7])
    return sorted(set(found))


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError:
        return False


def gitdirs(ws: str, scan: Scan) -> list[str]:
    """Absolute paths of the workspace's git metadata: each `.git`, and the gitdir and common dir
    a `.git` file points to when they are inside the workspace (outside, the root is read-only)."""
    out: list[str] = []
    for rel in scan.gits:
        entry = os.path.join(ws, rel)
        real = os.path.realpath(entry)
        if within(real, ws) and os.path.exists(real):
            out.append(real)
        if os.path.isfile(entry):
            out += [p for p in _pointed_dirs(entry) if within(p, ws) and p not in out]
    return out


def _pointed_dirs(git_file: str) -> list[str]:
    try:
        with open(git_file, encoding="utf-8", errors="replace") as fh:
            first = fh.read(4096).splitlines()[0] if fh else ""
    except (OSError, IndexError):
        return []
    if not first.startswith("gitdir:"):
        return []
    target = first[len("gitdir:") :].strip()
    gitdir = os.path.realpath(os.path.join(os.path.dirname(git_file), target))
    out = [gitdir] if os.path.isdir(gitdir) else []
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as fh:
            common = os.path.realpath(os.path.join(gitdir, fh.read().strip()))
        if os.path.isdir(common):
            out.append(common)
    except OSError:
        pass
    return out


def harness_dir(ws: str) -> list[str]:
    """`.harness` as a real directory inside the workspace (through a symlink too: the harness
    reads its settings through it), or nothing."""
    real = os.path.realpath(os.path.join(ws, ".harness"))
    return [real] if within(real, ws) and real != ws and os.path.isdir(real) else []


def editor_settings(ws: str) -> tuple[list[str], list[str]]:
    """(editor settings in the workspace: their real paths, bound read-only; the names that do
    not exist, for the guard). An editor applies them outside the sandbox with no prompt."""
    present, absent = [], []
    for name in (*EDITOR_DIRS, *EDITOR_FILES):
        path = os.path.join(ws, name)
        if not os.path.lexists(path):
            absent.append(path)
            continue
        real = os.path.realpath(path)
        if within(real, ws) and real != ws and os.path.exists(real) and real not in present:
            present.append(real)
    return present, absent


# Every tmpfs is capped: uncapped, each took up to half the machine's RAM (12 GiB of 24 on the
# test machine, five of them plus bwrap's /dev), so one command could push the host into the OOM
# killer, which may pick the daemon. Writes past the cap fail "No space left on device".
TMPFS_BYTES = 256 * 1024 * 1024  # /tmp, /var/tmp, $HOME: where tools write scratch files
STAND_IN_BYTES = 16 * 1024 * 1024  # /run, the data dir, /dev/shm: there only to hide the host's


# Processes (threads included) a call may have at once: a fork bomb stops there instead of
# taking the machine. RLIMIT_NPROC counts per user *namespace* (Linux 5.14+), and an unprivileged
# bwrap is in its own, so only the call's processes count. Root is exempt by the kernel.
PROCESS_LIMIT = 2048
# The command and everything it starts are the OOM killer's first choice: a memory hog is killed,
# not the daemon (raising one's own score needs no privilege).
OOM_FIRST = 1000


def _limited(argv: list[str]) -> list[str]:
    """`argv` started by a bash that first lowers RLIMIT_NPROC (soft and hard: the command cannot
    raise it again) and makes itself the OOM killer's first choice. Only bash is used for it: without bash the command runs unlimited."""
    bash = argv[0] if os.path.basename(argv[0]) == "bash" else shutil.which("bash")
    if bash is None:
        return argv
    first = f"ulimit -u {PROCESS_LIMIT} 2>/dev/null; echo {OOM_FIRST} > /proc/self/oom_score_adj"
    if len(argv) == 3 and argv[0] == bash and argv[1] == "-c":  # the shell tool's own bash -c:
        # the limits go in front of its script, on its first line (error line numbers stay):
        # one bash start instead of two, 2-3 ms of every call
        return [bash, "-c", f"{first} 2>/dev/null; {argv[2]}"]
    return [bash, "-c", f'{first} 2>/dev/null; exec "$@"', "bash", *argv]


def _tmpfs(path: str, size: int) -> list[str]:
    return ["--size", str(size), "--tmpfs", path]


def _hide(path: str, scratch: Sequence[str]) -> list[str]:
    if not os.path.isdir(path) or os.path.islink(path):
        return []
    return _tmpfs(path, TMPFS_BYTES if path in scratch else STAND_IN_BYTES)


def argv_for(
    exe: str,
    argv: list[str],
    *,
    ws: str,
    tmp: str,
    writable: bool,
    network: bool,
    data_dir: str | None,
    home: str | None,
    toolchains: list[str],
    scan: Scan,
    masked: tuple[str, ...],
    editors: Sequence[str] = (),  # editor_settings(ws)[0]: bound read-only
) -> list[str]:
    """The bwrap argv running `argv` (see the module docstring for what it mounts)."""
    cmd = [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    # bwrap's /dev is an uncapped tmpfs: read-only but its /dev/shm, which is capped
    cmd += [*_tmpfs("/dev/shm", STAND_IN_BYTES), "--remount-ro", "/dev"]
    hidden = [p for p in SHARED if not os.path.islink(p)]
    hidden += [home] if home else []
    if data_dir and os.path.isdir(data_dir):
        hidden.append(data_dir)
    before = [h for h in hidden if not within(h, ws) or h == ws]  # the workspace goes on top
    scratch = ("/tmp", "/var/tmp", *([home] if home else []))
    after = [h for h in hidden if h not in before]
    for h in before:
        cmd += _hide(h, scratch)
    cmd += [a for path in resolver(hidden) for a in ("--ro-bind", path, path)]
    cmd += _toolchains(toolchains, ws, before)
    gone = [*hidden, "/dev", "/proc"]
    sockets = [s for s in unix_sockets() if not within(s, ws)]
    sockets = [s for s in sockets if not any(within(s, h) for h in gone) and _is_socket(s)]
    for sock in sockets:
        cmd += ["--ro-bind", empty_file(), sock]
    cmd += ["--bind" if writable else "--ro-bind", ws, ws]
    for h in after:
        cmd += _hide(h, scratch)
    cmd += _toolchains(toolchains, ws, after)
    for path in gitdirs(ws, scan):
        cmd += ["--ro-bind", path, path]
    for harness in [*harness_dir(ws), *editors]:
        cmd += ["--ro-bind", harness, harness]
    for rel in masked:
        src = empty_dir() if rel in scan.secret_dirs else empty_file()
        cmd += ["--ro-bind", src, os.path.join(ws, rel)]
    for path in scan.outside:  # reached through a secret-named link in the workspace
        if not any(within(path, h) for h in hidden) and os.path.isfile(path):
            cmd += ["--ro-bind", empty_file(), path]
    cmd += ["--bind", tmp, tmp, "--setenv", "TMPDIR", tmp, "--chdir", ws]
    cmd += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not network:
        cmd.append("--unshare-net")
    return [*cmd, "--die-with-parent", "--new-session", "--", *_limited(argv)]


def _toolchains(dirs: list[str], ws: str, hides: list[str]) -> list[str]:
    """Bind back the toolchain dirs that one of `hides` covered (not those in the workspace)."""
    out: list[str] = []
    for d in dirs:
        if not within(d, ws) and any(within(d, h) for h in hides):
            out += ["--ro-bind-try", d, d]
    return out


def resolver(hidden: list[str]) -> list[str]:
    """`/etc/resolv.conf` often points into `/run` (systemd-resolved): keep that one file."""
    real = os.path.realpath(_RESOLV)
    if real != _RESOLV and any(within(real, h) for h in hidden if h) and os.path.isfile(real):
        return [real]
    return []
