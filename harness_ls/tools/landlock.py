"""Landlock: the sandbox where bubblewrap cannot run (no user namespaces, bwrap not installed).

Run as `python -m harness_ls.tools.landlock [--write DIR]... [--no-network] -- CMD...`: it restricts
itself with an unprivileged Landlock ruleset (writes only beneath the --write dirs and /dev;
with ABI >= 4 no TCP connect or bind), becomes a child subreaper, runs CMD and, when CMD ends or
it is told to stop, kills every descendant left behind — `setsid` and double-forked ones are
reparented to it, so none outlives the call. Weaker than bubblewrap: reads are not limited (the
data dir stays readable), `/proc` still shows other processes of the same user, and UDP is not
covered. A separate process (not a preexec hook) because forking a threaded daemon and calling
into ctypes before exec is not safe; it imports nothing beyond the standard library.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_CREATE, _ADD_RULE, _RESTRICT = 444, 445, 446  # same numbers on x86_64 and aarch64
_VERSION = 1
_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS, _PR_SET_CHILD_SUBREAPER = 38, 36

# LANDLOCK_ACCESS_FS_*: every right that changes the filesystem
_WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_MAKE = sum(1 << b for b in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_REFER, _TRUNCATE = 1 << 13, 1 << 14
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1


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


def restrict(writable: list[str], network: bool) -> None:
    """Restrict this process (and what it execs) for good."""
    version = abi()
    if version < 1:
        raise OSError("Landlock is not available in this kernel")
    libc = _libc()
    handled = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE
    handled |= _REFER if version >= 2 else 0
    handled |= _TRUNCATE if version >= 3 else 0
    net = 0 if network or version < 4 else _NET_BIND_TCP | _NET_CONNECT_TCP
    attr = (ctypes.c_uint64 * 2)(handled, net)
    size = 16 if version >= 4 else 8
    ruleset = libc.syscall(_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    for path in [*writable, "/dev"]:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = PathBeneath(handled, fd)
            if libc.syscall(_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(fd)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    if libc.syscall(_RESTRICT, ruleset, 0) < 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)


def _children() -> list[int]:
    pids: list[int] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as fh:
                pids += [int(p) for p in fh.read().split()]
        except OSError:
            pass
    return pids


def _reap_all() -> None:
    """Kill and reap every descendant still around (they are all our children by now)."""
    for _ in range(100):
        left = _children()
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in left:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def main(argv: list[str]) -> int:
    writable, network = [], True
    while argv and argv[0] != "--":
        flag = argv.pop(0)
        if flag == "--write":
            writable.append(argv.pop(0))
        elif flag == "--no-network":
            network = False
    cmd = argv[1:]
    if not cmd:
        print("usage: landlock [--write DIR]... [--no-network] -- CMD...", file=sys.stderr)
        return 2
    restrict(writable, network)
    _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    def stop(signum: int, _frame: object) -> None:
        _reap_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    child = os.fork()  # fork + exec, not subprocess: the helper's start-up is the overhead
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            os.execvp(cmd[0], cmd)
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
