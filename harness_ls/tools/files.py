"""read_file, list_dir and write_file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import Field

from harness_ls.errors import InvalidInput, Refused
from harness_ls.tools.base import ActionPreview, Tool, ToolArgs, ToolContext, ToolResult
from harness_ls.tools.ignore import GitIgnore
from harness_ls.tools.paths import data_dir_rel, refuse_data_dir, rel_posix, resolve_path
from harness_ls.tools.secretfiles import is_secret_path
from harness_ls.tools.textfile import changed_range, read_text, unified_diff, write_atomic

READ_MAX_LINES = 2000
READ_MAX_CHARS = 100_000
LONG_LINE = 2000


class ReadFileArgs(ToolArgs):
    path: str = Field(description="File path relative to the workspace root.")
    start_line: int | None = Field(None, ge=1, description="First line to return (1-based).")
    end_line: int | None = Field(None, ge=1, description="Last line to return (inclusive).")


class ReadFile(Tool):
    name = "read_file"
    kind = "read"
    description = (
        "Read a UTF-8 text file in the workspace. Returns up to 2000 lines / 100 KB; use "
        "start_line/end_line (1-based, inclusive) to read other parts of long files."
    )
    Args = ReadFileArgs
    scans_secrets = True

    async def _run(self, ctx: ToolContext, args: ReadFileArgs) -> ToolResult:
        real = resolve_path(ctx.workspace, args.path, for_write=False)
        refuse_data_dir(ctx.workspace, real, ctx.data_dir)
        shown = rel_posix(ctx.workspace, real)
        check_secret(ctx, shown, args.path)
        text = await asyncio.to_thread(read_text, real, shown)
        return _slice(text, shown, args.start_line, args.end_line)


def check_secret(ctx: ToolContext, shown: str, asked: str) -> None:
    """Refuse a secret file this call was not approved for — reached through a symlink or a
    path spelled differently from the one the policy saw. Its values are registered for masking
    either way (tools/wsscan.py)."""
    from harness_ls.tools.wsscan import scan

    known = scan(ctx.workspace, ctx.secret_patterns()).secrets  # also what a `.env` link reaches
    secret = shown in known or is_secret_path(shown, ctx.secret_patterns())
    if secret and not ctx.may_read_secret(shown):
        raise Refused(
            f"{shown} is a secret file; reading it needs your approval"
            + (f" ({asked!r} resolves to it)" if asked.strip("./") != shown else ""),
            hint=f"ask for it by its own path ({shown}) so the approval names it",
        )


def _slice(text: str, shown: str, start: int | None, end: int | None) -> ToolResult:
    lines = text.splitlines(keepends=True)
    total = len(lines)
    first = start or 1
    if total and first > total:
        raise InvalidInput(
            f"start_line {first} is past the end of {shown} ({total} lines)",
            hint=f"use a start_line between 1 and {total}",
        )
    if end is not None and end < first:
        raise InvalidInput(f"end_line {end} is before start_line {first}")
    last = min(end or total, total, first - 1 + READ_MAX_LINES)
    out: list[str] = []
    size = 0
    shown_last = first - 1
    for i in range(first - 1, last):
        line = lines[i]
        if len(line) > LONG_LINE:
            line = line[:LONG_LINE] + f" [... line cut at {LONG_LINE} chars]\n"
        if size + len(line) > READ_MAX_CHARS and out:
            break
        out.append(line)
        size += len(line)
        shown_last = i + 1
    body = "".join(out)
    note = ""
    wanted_last = min(end or total, total)
    if shown_last < wanted_last:
        note = (
            f"\n[showing lines {first}-{shown_last} of {total}; "
            f"read more with start_line={shown_last + 1}]"
        )
    data = {"path": shown, "start_line": first, "end_line": shown_last, "total_lines": total}
    return ToolResult(ok=True, output=body + note, data=data)


class ListDirArgs(ToolArgs):
    path: str = Field(".", description="Directory relative to the workspace root.")
    depth: int = Field(
        1, ge=1, le=6, description="How many levels to descend (1 = direct entries)."
    )
    max_entries: int = Field(400, ge=1, le=5000, description="Stop after this many entries.")


class ListDir(Tool):
    name = "list_dir"
    kind = "read"
    description = (
        "List a workspace directory (directories end with '/'). Honors .gitignore and skips .git; "
        "depth > 1 descends into subdirectories."
    )
    Args = ListDirArgs

    async def _run(self, ctx: ToolContext, args: ListDirArgs) -> ToolResult:
        real = resolve_path(ctx.workspace, args.path, for_write=False)
        refuse_data_dir(ctx.workspace, real, ctx.data_dir)
        hidden = data_dir_rel(ctx.workspace, ctx.data_dir)
        return await asyncio.to_thread(_list, ctx.workspace, real, args, hidden)


def _list(workspace: Path, real: Path, args: ListDirArgs, hidden: str | None) -> ToolResult:
    shown = rel_posix(workspace, real)
    if not real.exists():
        raise InvalidInput(f"{shown} does not exist", hint="list the parent directory first")
    if not real.is_dir():
        raise InvalidInput(f"{shown} is a file, not a directory", hint="use read_file to read it")
    ignore = GitIgnore(workspace, hidden)
    start = "" if shown == "." else shown
    if start and ignore.ignored(start, is_dir=True):
        note = (
            f"{shown} is ignored by .gitignore"
            if ".git" not in start.split("/")
            else ".git is not listed"
        )
        return ToolResult(ok=True, output=f"[{note}]", data={"path": shown, "entries": 0})
    entries: list[str] = []
    truncated = False
    base_depth = start.count("/") + 1 if start else 0
    for rel_dir, dirs, files in ignore.walk(start):
        level = (rel_dir.count("/") + 1 if rel_dir else 0) - base_depth
        prefix = rel_dir[len(start) :].lstrip("/") if start else rel_dir
        prefix = prefix + "/" if prefix else ""
        names = [prefix + d + "/" for d in dirs] + [prefix + f for f in files]
        for name in names:
            if len(entries) >= args.max_entries:
                truncated = True
                break
            entries.append(name)
        if truncated:
            break
        if level + 1 >= args.depth:
            dirs[:] = []
    entries.sort(key=lambda e: e.rstrip("/").split("/"))
    out = "\n".join(entries) if entries else "[empty directory]"
    if truncated:
        out += (
            f"\n[stopped at {args.max_entries} entries; list a subdirectory or raise max_entries]"
        )
    return ToolResult(
        ok=True, output=out, data={"path": shown, "entries": len(entries), "truncated": truncated}
    )


class WriteFileArgs(ToolArgs):
    path: str = Field(
        description="File path relative to the workspace root; parent dirs are created."
    )
    content: str = Field(description="The complete new content of the file.")


class WriteFile(Tool):
    name = "write_file"
    kind = "write"
    description = (
        "Create a file or replace its whole content (parent directories are created). For changes "
        "to part of an existing file prefer edit."
    )
    Args = WriteFileArgs

    def _plan(self, ctx: ToolContext, args: WriteFileArgs) -> tuple[Path, str, str | None]:
        real = resolve_path(ctx.workspace, args.path, for_write=True)
        shown = rel_posix(ctx.workspace, real)
        if real.is_dir():
            raise InvalidInput(f"{shown} is a directory", hint="name a file path")
        if not real.exists():
            return real, shown, None
        try:
            return real, shown, read_text(real, shown)
        except InvalidInput as exc:  # binary / not UTF-8 / huge: replaced wholesale
            return real, shown, f"[{exc.message}]\n"

    def _preview(self, ctx: ToolContext, args: WriteFileArgs) -> ActionPreview:
        _real, shown, old = self._plan(ctx, args)
        diff = unified_diff(old or "", args.content, shown, is_new=old is None)
        verb = "create" if old is None else "overwrite"
        return ActionPreview(
            kind="write",
            summary=f"{verb} {shown} ({len(args.content.encode())} bytes)",
            path=shown,
            diff=diff,
            range=None if old is None else changed_range(old, args.content),
        )

    async def _run(self, ctx: ToolContext, args: WriteFileArgs) -> ToolResult:
        real = resolve_path(ctx.workspace, args.path, for_write=True)
        shown = rel_posix(ctx.workspace, real)
        if real.is_dir():
            raise InvalidInput(f"{shown} is a directory", hint="name a file path")
        created = await asyncio.to_thread(write_atomic, real, args.content)
        size = len(args.content.encode())
        verb = "created" if created else "overwrote"
        return ToolResult(
            ok=True,
            output=f"{verb} {shown} ({size} bytes)",
            data={"path": shown, "created": created, "bytes": size},
        )
