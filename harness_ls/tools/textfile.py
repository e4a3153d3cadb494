"""Reading and atomically writing text files, and the diffs approvals show."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

import harness_ls.nofollow as nofollow
from harness_ls.errors import InvalidInput, NotFound, Refused
from harness_ls.private import process_umask
from harness_ls.tools.base import LineRange

BINARY_SNIFF = 8192
MAX_TEXT_BYTES = 10_000_000  # larger files are refused rather than loaded whole


def looks_binary(head: bytes) -> bool:
    """NUL bytes in the first block, as git and grep decide."""
    return b"\x00" in head[:BINARY_SNIFF]


def read_text(real: Path, shown: str) -> str:
    """The file's text; NotFound / InvalidInput (directory, binary, not UTF-8) name what's wrong."""
    if not real.exists():
        raise NotFound(f"{shown} does not exist", hint=_suggest(real, shown))
    if real.is_dir():
        raise InvalidInput(f"{shown} is a directory", hint="use list_dir to see its entries")
    # opened non-blocking and checked on the open file: a FIFO blocked a worker thread for good
    # (a few of them wedge every thread of the daemon), a device never ends
    # and no link followed: a folder swapped for a link after `real` was resolved would read a
    # file outside the workspace (harness_ls/nofollow.py)
    try:
        fd = nofollow.open_file(os.fspath(real), os.O_RDONLY | os.O_NONBLOCK)
    except nofollow.LinkOnTheWay as exc:
        raise Refused(
            f"not read: {exc.strerror} (it changed after the path was checked)",
            hint="read a path whose folders are real folders inside the workspace",
        ) from None
    except OSError as exc:
        raise InvalidInput(f"cannot open {shown}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInput(
                f"{shown} is not a regular file (a FIFO, socket or device)",
                hint="only text files can be read or edited",
            )
        if st.st_size > MAX_TEXT_BYTES:
            raise InvalidInput(
                f"{shown} is too large to load ({st.st_size} bytes, limit {MAX_TEXT_BYTES})",
                hint="use search to find the part you need, or shell tools such as head/sed",
            )
        data = fh.read(MAX_TEXT_BYTES + 1)
    if looks_binary(data):
        raise InvalidInput(
            f"{shown} is a binary file ({len(data)} bytes)",
            hint="only text files can be read or edited",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{shown} is not UTF-8 text (bad byte at offset {exc.start})",
            hint="only UTF-8 text files can be read or edited",
        ) from None


def _suggest(real: Path, shown: str) -> str:
    parent = real.parent
    if not parent.is_dir():
        return "check the path with list_dir"
    names = [p.name for p in parent.iterdir()][:2000]
    close = difflib.get_close_matches(real.name, names, n=3, cutoff=0.6)
    if close:
        base = shown.rsplit("/", 1)[0] + "/" if "/" in shown else ""
        return "did you mean " + ", ".join(base + c for c in close) + "?"
    return "check the path with list_dir"


def write_atomic(real: Path, text: str) -> bool:
    """Write via a temp file + rename in the same directory; returns True when the file is new.

    Readers never see a half-written file, and a crash leaves the old content. The mode of an
    existing file is kept. No link is followed on the way (harness_ls/nofollow.py): a folder
    swapped for a link after `real` was resolved fails the write, naming it.
    """
    folder, name = os.path.split(os.fspath(real))
    try:
        mode = nofollow.mode_of(folder, name)
        nofollow.replace_in(folder, name, text.encode("utf-8"),
                            0o666 & ~process_umask() if mode is None else mode)  # fmt: skip
    except nofollow.LinkOnTheWay as exc:
        raise Refused(
            f"not written: {exc.strerror} (it changed after the path was checked)",
            hint="write to a path whose folders are real folders inside the workspace",
        ) from None
    return mode is None


def unified_diff(old: str, new: str, shown: str, *, is_new: bool = False) -> str:
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    lines = difflib.unified_diff(
        a, b, fromfile="/dev/null" if is_new else f"a/{shown}", tofile=f"b/{shown}", n=3
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def changed_range(old: str, new: str) -> LineRange | None:
    """Lines of the *current* file the change touches (1-based, inclusive); None if unchanged."""
    a = old.splitlines()
    b = new.splitlines()
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    spans = [(i1, i2) for tag, i1, i2, _j1, _j2 in sm.get_opcodes() if tag != "equal"]
    if not spans:
        return None if old == new else LineRange(start_line=max(1, len(a)), end_line=max(1, len(a)))
    start = spans[0][0] + 1
    end = max(spans[-1][1], start)
    last = max(len(a), 1)
    return LineRange(start_line=min(start, last), end_line=min(end, last))
