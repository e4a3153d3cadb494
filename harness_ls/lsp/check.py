"""`harness-ls check`: the same validator as the editor, for pre-commit hooks and CI.

Exit status: 0 clean (warnings and hints allowed), 1 when any file has errors, 2 when a path
cannot be read or the workspace schema is broken. Every failure is one line, never a traceback.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import harness_ls.nofollow as nofollow
from harness_ls.spec import SchemaError, Severity, fix_all, load_schema, validate

MAX_BYTES = 32 * 1024 * 1024


def _expand(paths: list[str]) -> list[Path]:
    """The named files, and the spec files under named folders — not the links among those: a
    cloned repository's `specs/x/spec.md -> ~/.bashrc` (or a FIFO) is nobody's spec."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted({*p.glob("specs/**/spec.md"), *p.glob("**/*.spec.md")})
            if not found and p.name == "specs":
                found = sorted(p.glob("**/spec.md"))
            out.extend(f for f in found if not f.is_symlink())
        else:
            out.append(p)
    return out


def _replace(path: Path, text: str) -> None:
    """Write the fixed spec by descriptors, no link followed, through a temp file renamed in
    its own folder (the file's mode kept)."""
    folder = os.path.realpath(path.parent)
    mode = nofollow.mode_of(folder, path.name)
    nofollow.replace_in(folder, path.name, text.encode("utf-8"), 0o644 if mode is None else mode)


def _read(path: Path) -> str:
    """Text of a spec file, or ValueError with a one-line reason."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    if path.is_dir():
        raise ValueError("is a directory")
    if size > MAX_BYTES:
        raise ValueError(
            f"file is {size // (1024 * 1024)} MB; specs over {MAX_BYTES // (1024 * 1024)} MB are not checked"
        )
    try:  # non-blocking, a regular file only: a FIFO hung the hook for good
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = fh.read(MAX_BYTES + 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"not valid UTF-8 (byte {exc.start}, line {line}); save the file as UTF-8"
        ) from None


def run_check(paths: list[str], *, fix: bool = False, workspace: str | None = None) -> int:
    try:
        schema = load_schema(workspace or Path.cwd())
    except SchemaError as exc:
        print(f"harness-ls: {exc.message}", file=sys.stderr)
        return 2
    files = _expand(paths)
    if not files:
        print(f"harness-ls: no spec files found under {' '.join(paths)}", file=sys.stderr)
        return 2
    status = 0
    fixed_files = 0
    for path in files:
        try:
            text = _read(path)
        except ValueError as exc:
            print(f"{path}: error: {exc}")
            status = max(status, 2)
            continue
        if fix:
            fixed = fix_all(text, schema)
            if fixed != text:
                if path.is_symlink():
                    print(f"{path}: error: a symbolic link: not fixed (fix {path.resolve()})")
                    status = max(status, 2)
                    continue
                # count what --fix can fix: a placeholder it inserts is a new warning (HLS012)
                before = sum(1 for p in validate(text, schema) if p.fixes)
                _replace(path, fixed)
                text = fixed
                gone = before - sum(1 for p in validate(text, schema) if p.fixes)
                print(f"{path}: fixed {gone} problem{'s' if gone != 1 else ''}")
                fixed_files += 1
        problems = validate(text, schema)
        for problem in problems:
            print(problem.location(str(path)))
        if any(p.severity == Severity.error for p in problems):
            status = max(status, 1)
    if fix:  # say what happened, also when there was nothing to do
        n = len(files)
        print(
            f"{n} spec file{'s' if n != 1 else ''} checked, {fixed_files} fixed"
            + ("" if status else "; no errors left")
        )
    return status
