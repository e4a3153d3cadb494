"""Tags of many files at once, spread over the machine's cores.

tree-sitter holds the GIL while it parses, so threads gain nothing; a cold build instead forks
one child per extra core (fork: no interpreter start-up, grammars already loaded), each child
parses an interleaved share of the files (largest first, so shares stay even) and sends its
tags back through a pipe as one marshal blob (plain lists; ~8x cheaper to write than a pickle).
The parent parses its own share meanwhile. A child that fails, dies or overruns the deadline
costs nothing but time: the parent parses that share itself. Off Linux (no fork, or fork
unsafe in a threaded process) or for a small job, everything runs in-process.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import sys
import time
from pathlib import Path

from harness_ls.nofollow import read_regular

from .files import MAX_FILE_BYTES, SourceFile
from .languages import grammar, language_for
from .tags import FileTags, extract

PARALLEL_MIN_FILES = 300  # below this, a fork and the transfer cost more than they save
MAX_WORKERS = 4
CHILD_GRACE_S = 5.0  # past the parse deadline, a silent child is killed and its share redone


def worker_count(n_files: int) -> int:
    """Processes worth using for `n_files` cold parses: one per core, at most MAX_WORKERS."""
    # Linux only: macOS system libraries are not fork-safe in a threaded process (the daemon)
    if n_files < PARALLEL_MIN_FILES or not sys.platform.startswith("linux"):
        return 1
    cores = len(os.sched_getaffinity(0))
    return max(1, min(cores, MAX_WORKERS, n_files // (PARALLEL_MIN_FILES // 2)))


def parse_one(root: Path, f: SourceFile, deadline: float) -> FileTags | None:
    """Tags of one file; None once the deadline has passed (the caller notes it)."""
    if time.monotonic() > deadline:
        return None
    # no link followed, non-blocking, regular files only: a file swapped since the listing for a
    # link out of the workspace (or to `.env`) or for a FIFO is neither read nor waited on
    got = read_regular(os.path.join(root, f.rel), MAX_FILE_BYTES)
    if got is None:
        return FileTags(skip="unreadable")
    return extract(f.rel, got[0])


def parse_files(
    root: Path, files: list[SourceFile], deadline: float, *, workers: int | None = None
) -> list[FileTags | None]:
    """Tags of `files`, in order (None: not parsed, deadline reached)."""
    workers = worker_count(len(files)) if workers is None else workers
    if workers <= 1 or len(files) < 2:
        return [parse_one(root, f, deadline) for f in files]
    for lang in {language_for(f.rel) for f in files}:
        if lang:
            grammar(lang)  # loaded (and imported) before the fork, so children import nothing
    order = sorted(range(len(files)), key=lambda i: -files[i].size)
    shares = [order[k::workers] for k in range(workers)]
    children = [_fork(root, [files[i] for i in share], deadline) for share in shares[1:]]
    out: list[FileTags | None] = [None] * len(files)
    try:
        for i in shares[0]:
            out[i] = parse_one(root, files[i], deadline)
    except BaseException:  # interrupted: leave no child running or unreaped
        for child in children:
            if child:
                _collect(child, 0, 0.0)
        raise
    for share, child in zip(shares[1:], children, strict=True):
        got = _collect(child, len(share), deadline + CHILD_GRACE_S) if child else None
        if got is None:  # the child failed: its share is parsed here
            got = [parse_one(root, files[i], deadline) for i in share]
        for i, tags in zip(share, got, strict=True):
            out[i] = tags
    return out


def _fork(root: Path, files: list[SourceFile], deadline: float) -> tuple[int, int] | None:
    if not hasattr(os, "fork"):
        return None
    try:
        rfd, wfd = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(rfd)
        os.close(wfd)
        return None
    if pid == 0:  # child: never return into the parent's code, whatever happens
        code = 1
        try:
            os.close(rfd)
            tags = [parse_one(root, f, deadline) for f in files]
            payload = marshal.dumps([t.to_json() if t else None for t in tags])
            with os.fdopen(wfd, "wb") as fh:
                fh.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    return pid, rfd


def _collect(
    child: tuple[int, int], expected: int, deadline: float
) -> list[FileTags | None] | None:
    """A child's tags, or None when it failed, was cut short or sent something unreadable."""
    pid, fd = child
    buf = bytearray()
    done = False
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                done = True
                break
            buf += chunk
    except OSError:
        done = False
    finally:
        os.close(fd)
        if not done:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        status = 0
        with contextlib.suppress(ChildProcessError):  # reaped by someone else: trust the payload
            status = os.waitpid(pid, 0)[1]
    if not done or status != 0:
        return None
    try:
        raw = marshal.loads(buf)
        tags = [FileTags.from_json(t) if t is not None else None for t in raw]
    except Exception:  # a truncated or garbled payload: redo the share
        return None
    return tags if len(tags) == expected else None
