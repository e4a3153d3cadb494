"""File IO of the diagram renderer: by descriptors, bounded, never blocking on a FIFO.

Standard library only: `agentctl init` copies this file next to `scripts/render-diagrams` as
`scripts/render_diagrams_io.py` (render.py loads it from there when it runs as a script). A run
renders outside the sandbox, in a folder the agent writes (and a cloned repository filled): a
source, the manifest or an output may be a link to a file of yours, a FIFO that never ends, or a
sparse file of many gigabytes that uses no disk. Reads here follow no link where asked, open
non-blocking, check the open file and read at most a cap; writes go through a fresh temp file
renamed relative to the folder's descriptor.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from pathlib import Path

MANIFEST = ".hashes.json"
MAX_SOURCE = 1024 * 1024  # a diagram source larger than this is not rendered (nor read)
MAX_MANIFEST = 4 * 1024 * 1024  # a larger .hashes.json is ignored (every source re-renders)
MAX_HASHED = 64 * 1024 * 1024  # an output larger than this is never fresh (it re-renders)
SOURCE_LINK = (
    "it is a symbolic link; a run renders only regular files in the diagrams folder "
    "(replace the link with the file)"
)
_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class RefusedFile(OSError):
    """A file not read (a link, no regular file, over its cap); str() says which."""

    def __str__(self) -> str:
        return str(self.args[0])


def file_problem(st: os.stat_result, cap: int, what: str = "a diagram source") -> str | None:
    """What makes this (l)stat result unreadable here, in words for the user and the model."""
    if stat.S_ISLNK(st.st_mode):
        return SOURCE_LINK
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "no regular file")
        return f"it is {kind}, not a regular file"
    if st.st_size > cap:
        return f"it is larger than {_size(cap)} ({st.st_size} bytes), the limit for {what}"
    return None


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n} bytes"


def source_problem(src: Path, *, follow: bool) -> str | None:
    """Why `src` will not be read as a source (None: it will be tried), from its metadata."""
    try:
        st = os.stat(src) if follow else os.lstat(src)
    except OSError as exc:
        return f"it could not be read ({exc.strerror})"
    return file_problem(st, MAX_SOURCE)


def open_dir(folder: Path) -> int:
    """A descriptor of `folder`'s real path, each folder opened from `/` with no link followed."""
    dirs = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open("/", dirs)
    try:
        for part in [p for p in str(folder.resolve()).split("/") if p]:
            nxt = os.open(part, dirs, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open(path: Path, follow: bool) -> int:
    """A read descriptor of `path`, opened non-blocking (a FIFO never blocks the open) and,
    unless `follow` (your own `make diagrams`: links in your repository are yours), by
    descriptors with no link followed; RefusedFile saying what was wrong."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        if follow:
            return os.open(path, flags)
        fd = open_dir(path.parent)
        try:
            return os.open(path.name, flags | os.O_NOFOLLOW, dir_fd=fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RefusedFile(SOURCE_LINK) from None
        raise RefusedFile(f"it could not be opened ({exc.strerror})") from None


def read_bounded(path: Path, cap: int, *, follow: bool, what: str = "a diagram source") -> bytes:
    """At most `cap` bytes of the regular file `path` (opened as `_open` does)."""
    fd = _open(path, follow)
    with os.fdopen(fd, "rb") as fh:
        problem = file_problem(os.fstat(fd), cap, what)
        if problem:
            raise RefusedFile(problem)
        data = fh.read(cap + 1)
    if len(data) > cap:  # it grew after the check
        raise RefusedFile(f"it is larger than {_size(cap)}, the limit for {what}")
    return data


def read_source(src: Path, *, follow: bool) -> str:
    """A source's text: regular, at most MAX_SOURCE, no link followed unless `follow` (mmdc
    and awsdac opened it by name, so one swapped for a link to your key after the check was
    read, and the parse error quoted it to the model)."""
    return read_bounded(src, MAX_SOURCE, follow=follow).decode("utf-8", errors="replace")


def sha256_file(path: Path, cap: int = MAX_HASHED, *, follow: bool = True) -> str:
    """The file's hash, read in chunks, non-blocking; RefusedFile when over `cap` or no file."""
    fd = _open(path, follow)
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        problem = file_problem(os.fstat(fd), cap, "a hashed file")
        if problem:
            raise RefusedFile(problem)
        read = 0
        while chunk := fh.read(min(1 << 20, cap + 1 - read)):
            read += len(chunk)
            if read > cap:
                raise RefusedFile(f"it is larger than {_size(cap)}, the limit for a hashed file")
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def write_in(folder: Path, name: str, data: bytes) -> None:
    """Write `folder/name` by descriptors (a run renders outside the sandbox, in a folder the
    agent writes): each folder opened from `/` with no link followed, a fresh temp file renamed
    over `name` relative to the last one. A link planted at the output (`flow.png -> ~/x`) or
    at a temp name (`.hashes.json.tmp`), or a folder swapped for one, is never written through
    (by name, both overwrote a file of yours)."""
    fd = open_dir(folder)
    try:
        tmp = f".{name}.{os.urandom(6).hex()}.tmp"
        new = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            with os.fdopen(os.open(tmp, new, 0o644, dir_fd=fd), "wb") as fh:
                fh.write(data)
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=fd)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)


def place(png: Path, out: Path) -> None:
    """Move a PNG rendered in a private folder to `out`, written by descriptors."""
    write_in(out.parent, out.name, png.read_bytes())
    png.unlink()


def private_copy(src: Path, folder: Path, *, follow: bool) -> Path:
    """`folder/<src name>` holding the source's text read by read_source: a renderer is
    handed this copy, never the diagrams folder by name."""
    copy = folder / src.name
    copy.write_text(read_source(src, follow=follow), encoding="utf-8")
    return copy


def load_manifest(diagrams_dir: Path) -> dict[str, dict[str, str]]:
    """The `diagrams` table of the manifest: source name -> {source, output, output_sha256}.
    Read bounded, no link followed, non-blocking: a FIFO planted there hung every render."""
    path = diagrams_dir / MANIFEST
    try:
        data = json.loads(read_bounded(path, MAX_MANIFEST, follow=False, what="the manifest"))
    except (OSError, ValueError):
        return {}
    entries = data.get("diagrams") if isinstance(data, dict) else None
    return entries if isinstance(entries, dict) else {}


def save_manifest(diagrams_dir: Path, entries: dict[str, dict[str, str]]) -> None:
    data = {
        "version": 1,
        "note": "written by scripts/render-diagrams; a source is re-rendered when its hash differs",
        "diagrams": dict(sorted(entries.items())),
    }
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_in(diagrams_dir, MANIFEST, text.encode("utf-8"))
