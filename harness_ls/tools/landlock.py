"""Landlock: the sandbox where bubblewrap cannot run (no user namespaces, bwrap not installed).

Run as `python landlock.py [--write DIR]... [--deny-read P]... [--allow-read P]... [--no-network]
[--scope] [--exec] -- CMD...`: it restricts itself with an unprivileged Landlock ruleset, becomes a
child subreaper, runs CMD and, when CMD ends or it is told to stop, kills every descendant left
behind — `setsid` and double-forked ones are reparented to it, so none outlives the call. It
does the same when the daemon that started it dies (a parent-death signal, as bubblewrap's
`--die-with-parent`).

- writes: only beneath the --write dirs, to character devices and `/dev/pts` (not `/dev/shm`);
- reads (and exec): everywhere except the --deny-read paths, with --allow-read islands inside
  them (a workspace in $HOME). Landlock can only grant, so a directory on the way to a denied path
  is split: each of its entries gets its own rule. An entry created there during the call has no
  rule, so the call cannot read it back (the next call can);
- with ABI >= 4 and --no-network: no TCP connect or bind (UDP is not covered);
- with ABI >= 6 and --scope: no abstract Unix socket outside the sandbox (D-Bus, X11...) and no
  signal to a process outside it (the daemon); Landlock also denies ptrace, and with it
  `/proc/<pid>/{environ,mem,fd}`, of processes outside its domain;
- run as root, the command gets no capabilities (the bounding set is emptied).
Not covered by Landlock: connecting to a Unix socket by path, and in-place writes inside the
workspace's `.git/` and `.harness/` (a subtree of a writable tree cannot be excluded); the shell
tool checks and restores those after the call (tools/guard.py).

`--exec` only restricts and execs CMD (no subreaper): how bubblewrap runs under a scope when the
network is on. A separate process (not a preexec hook) because forking a threaded daemon and
calling into ctypes before exec is not safe; it imports nothing beyond the standard library.
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import sys
import time

_CREATE, _ADD_RULE, _RESTRICT = 444, 445, 446  # same numbers on x86_64 and aarch64
_VERSION = 1
_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS, _PR_SET_CHILD_SUBREAPER, _PR_CAPBSET_DROP = 38, 36, 24
_PR_SET_PDEATHSIG = 1

# LANDLOCK_ACCESS_FS_*: every right that changes the filesystem, and reading files
_READ_FILE, _WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 2, 1 << 1, 1 << 4, 1 << 5
_MAKE = sum(1 << b for b in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_REFER, _TRUNCATE = 1 << 13, 1 << 14
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FILE_RIGHTS = _READ_FILE | _WRITE_FILE | _TRUNCATE  # what a rule on a non-directory may hold


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is unavailable."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def read_grants(deny: list[str], allow: list[str]) -> list[str]:
    """The fewest paths whose subtrees cover everything readable: all but `deny`, with `allow`
    islands inside denied paths (the deepest marker around a path decides)."""
    marks = [(os.path.realpath(p), False) for p in deny]
    marks += [(os.path.realpath(p), True) for p in allow]
    out: list[str] = []

    def readable(path: str) -> bool:
        around = [m for m in marks if _within(path, m[0])]
        return max(around, key=lambda m: len(m[0]))[1] if around else True

    def visit(path: str) -> None:
        below = {ok for p, ok in marks if _within(p, path) and p != path}
        here = readable(path)
        if (here and False not in below) or (not here and True not in below):
            if here:
                out.append(path)
            return
        try:
            with os.scandir(path) as it:
                entries = [e.path for e in it if not e.is_symlink()]
        except OSError:
            return
        for entry in entries:
            visit(entry)

    visit("/")
    return out


def restrict(
    writable: list[str],
    network: bool,
    *,
    deny_read: list[str] | None = None,
    allow_read: list[str] | None = None,
    scope: bool = False,
) -> None:
    """Restrict this process (and what it execs) for good."""
    version = abi()
    if version < 1:
        raise OSError("Landlock is not available in this kernel")
    libc = _libc()
    write = 0
    if writable:
        write = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE
        write |= _REFER if version >= 2 else 0
        write |= _TRUNCATE if version >= 3 else 0
    read = _READ_FILE if deny_read else 0
    net = 0 if network or version < 4 else _NET_BIND_TCP | _NET_CONNECT_TCP
    scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if scope and version >= 6 else 0
    attr = (ctypes.c_uint64 * 3)(write | read, net, scoped)
    size = 24 if version >= 6 else 16 if version >= 4 else 8
    ruleset = libc.syscall(_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    def add(path: str, access: int, strict: bool) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            if strict:
                raise
            return
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                access &= _FILE_RIGHTS
            rule = PathBeneath(access, fd)
            if libc.syscall(_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                if strict:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(fd)

    if write:
        for path in writable:
            add(path, write, strict=True)
        for path in dev_writes():
            add(path, write, strict=False)
    if read:
        for path in read_grants(deny_read or [], [*(allow_read or []), *writable, "/dev"]):
            add(path, read, strict=False)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    if libc.syscall(_RESTRICT, ruleset, 0) < 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)


def _oom_first() -> None:
    """The command (and what it starts) is the OOM killer's first choice, not the daemon; done
    before restricting, which denies writes to /proc."""
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass


def dev_writes() -> list[str]:
    """What of /dev a command may write: the character devices (`/dev/null`, `/dev/tty`…) and
    the terminals in `/dev/pts`. Not /dev itself and not `/dev/shm` or `/dev/mqueue`: files made
    there outlived the call outside the workspace (other programs' shared memory lives there too)
    and filled the host's RAM."""
    out = ["/dev/pts"] if os.path.isdir("/dev/pts") else []
    try:
        names = sorted(os.listdir("/dev"))
    except OSError:
        return out
    for name in names:
        path = os.path.join("/dev", name)
        try:
            if stat.S_ISCHR(os.lstat(path).st_mode):
                out.append(path)
        except OSError:
            pass
    return out


def _children(pid: int | str = "self") -> list[int]:
    pids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return pids
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                pids += [int(p) for p in fh.read().split()]
        except OSError:
            pass
    return pids


def _descendants() -> list[int]:
    """Every process below us, parents before children."""
    out, todo = [], _children()
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += _children(pid)
    return out


REAP_FOR = 1.5  # seconds to keep killing what a fork loop makes; under shell.KILL_GRACE (2 s)


def _reap_all() -> None:
    """Kill and reap every descendant still around. The whole tree is killed in each pass, not
    only our children: killing one level at a time let a chain deeper than the passes outlive
    the call. What is forked between a listing and its kill is caught by the next pass (its
    parent died, so it is reparented to us, the subreaper)."""
    deadline = time.monotonic() + REAP_FOR
    while time.monotonic() < deadline:
        tree = _descendants()
        if not tree:
            return
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:  # reap every child that is gone; the rest are caught by the next pass
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.005)
                break


def _drop_capabilities() -> None:
    """Run as root, the command would keep every capability (CAP_SYS_PTRACE alone gets it past
    Landlock's ptrace check to other processes' /proc files): empty the bounding set, so what it
    execs holds none — as under bubblewrap, which drops them too."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        last = 40
    libc = _libc()
    for cap in range(last + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)


def _which(name: str) -> str:
    if "/" in name:
        return name
    for folder in os.get_exec_path():
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return name


def _end_with_parent(parent: int, stop: object) -> None:
    """SIGTERM us (so `stop` reaps the tree) when the daemon that started us dies: it cannot end
    a call once it is gone, and a helper waiting for its command let `sleep 1000 &` outlive a
    `kill -9` of agentd and race the restarted daemon's writes (bubblewrap: --die-with-parent)."""
    _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before the prctl took effect
        stop(signal.SIGTERM, None)  # type: ignore[operator]


def main(argv: list[str]) -> int:
    parent = os.getppid()
    writable: list[str] = []
    deny: list[str] = []
    allow: list[str] = []
    network, scope, just_exec = True, False, False
    lists = {"--write": writable, "--deny-read": deny, "--allow-read": allow}
    while argv and argv[0] != "--":
        flag = argv.pop(0)
        if flag in lists and argv:
            lists[flag].append(argv.pop(0))
        elif flag == "--no-network":
            network = False
        elif flag == "--scope":
            scope = True
        elif flag == "--exec":
            just_exec = True
    cmd = argv[1:]
    if not cmd:
        print("usage: landlock [--write DIR]... [--deny-read P]... [--allow-read P]... "
              "[--no-network] [--scope] [--exec] -- CMD...", file=sys.stderr)  # fmt: skip
        return 2
    cmd[0] = _which(cmd[0])  # before restricting: the lookup may import from a denied prefix
    _oom_first()
    restrict(writable, network, deny_read=deny, allow_read=allow, scope=scope)
    if just_exec:
        try:
            os.execv(cmd[0], cmd)
        except OSError as exc:
            print(f"landlock: cannot run {cmd[0]}: {exc.strerror}", file=sys.stderr)
        return 127
    _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if os.geteuid() == 0:
        _drop_capabilities()

    def stop(signum: int, _frame: object) -> None:
        _reap_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _end_with_parent(parent, stop)
    child = os.fork()  # fork + exec, not subprocess: the helper's start-up is the overhead
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            os.execv(cmd[0], cmd)
        except OSError as exc:
            print(f"landlock: cannot run {cmd[0]}: {exc.strerror}", file=sys.stderr)
        os._exit(127)
    _, status = os.waitpid(child, 0)
    _reap_all()
    return (
        os.waitstatus_to_exitcode(status) % 256
        if os.WIFEXITED(status)
        else 128 + os.WTERMSIG(status)
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
