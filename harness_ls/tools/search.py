"""search: find a regex (or literal) in workspace files — ripgrep when on PATH, Python otherwise.

Both honor .gitignore, skip .git and binary files, do not follow symlinks, and stop after
`max_results` matches so a broad pattern cannot flood the model's context.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import stat
from pathlib import Path

from pydantic import Field

import harness_ls.nofollow as nofollow
from harness_ls.errors import InvalidInput
from harness_ls.tools.base import Tool, ToolArgs, ToolContext, ToolResult
from harness_ls.tools.globs import PathPattern
from harness_ls.tools.ignore import GitIgnore
from harness_ls.tools.paths import data_dir_rel, refuse_data_dir, rel_posix, resolve_path
from harness_ls.tools.secretfiles import is_secret_path
from harness_ls.tools.textfile import looks_binary

MAX_LINE = 300
MAX_FILE_BYTES = 2_000_000
RG_TIME_LIMIT = 120.0  # seconds a ripgrep search may take before it is killed


class SearchArgs(ToolArgs):
    pattern: str = Field(
        description="Regular expression (Rust/Python syntax) or, with literal=true, plain text."
    )
    path: str = Field(
        ".", description="File or directory to search, relative to the workspace root."
    )
    glob: str | None = Field(
        None, description="Only files matching this glob, e.g. '*.py' or 'src/**/*.ts'."
    )
    literal: bool = Field(False, description="Treat pattern as plain text, not a regex.")
    ignore_case: bool = Field(False, description="Case-insensitive matching.")
    max_results: int = Field(100, ge=1, le=1000, description="Stop after this many matching lines.")


class Search(Tool):
    name = "search"
    kind = "read"
    description = (
        "Search file contents in the workspace (ripgrep semantics; honors .gitignore). Returns "
        "'path:line: text' for each matching line, up to max_results."
    )
    Args = SearchArgs
    scans_secrets = True

    def __init__(self, use_ripgrep: bool | None = None) -> None:
        self.use_ripgrep = use_ripgrep

    async def _run(self, ctx: ToolContext, args: SearchArgs) -> ToolResult:
        real = resolve_path(ctx.workspace, args.path, for_write=False)
        refuse_data_dir(ctx.workspace, real, ctx.data_dir)
        hidden = data_dir_rel(ctx.workspace, ctx.data_dir)
        shown = rel_posix(ctx.workspace, real)
        if not real.exists():
            raise InvalidInput(
                f"{shown} does not exist", hint="search '.' or list_dir to find the path"
            )
        if not (real.is_dir() or real.is_file()):  # a FIFO would block the search for good
            raise InvalidInput(
                f"{shown} is not a regular file (a FIFO, socket or device)",
                hint="search a folder or a text file",
            )
        rg = shutil.which("rg") if self.use_ripgrep in (None, True) else None
        if rg:  # ripgrep's regex dialect differs a little from Python's: let it judge the pattern
            hits, truncated = await _ripgrep(rg, ctx.workspace, shown, args)
            # ripgrep opens by name: only lines read again by descriptors, with no link followed
            hits = await asyncio.to_thread(_confirmed, ctx.workspace, hits, hidden)
            engine = "ripgrep"
        else:
            regex = _compile(args)
            hits, truncated = await asyncio.to_thread(
                _python, ctx.workspace, real, regex, args, hidden
            )
            engine = "python"
        hits, skipped = _without_secrets(ctx, hits)
        lines = [f"{p}:{n}: {_clip(t)}" for p, n, t in hits]
        out = "\n".join(lines) if lines else f"no matches for {args.pattern!r} in {shown}"
        if truncated:
            out += f"\n[stopped at {args.max_results} matches; narrow the pattern, path or glob]"
        if skipped:
            out += (f"\n[skipped matches in secret files: {', '.join(skipped)}; search one of them "
                    "by its own path to ask for it]")  # fmt: skip
        data = {"matches": len(hits), "truncated": truncated, "engine": engine}
        if skipped:
            data["skipped_secret_files"] = skipped
        return ToolResult(ok=True, output=out, data=data)


def _without_secrets(ctx: ToolContext, hits: list) -> tuple[list, list[str]]:
    """Matches outside secret files, and the secret files left out (unless this call was
    approved for one by name, or a rule of the user's allows reading it)."""
    from harness_ls.tools.wsscan import scan

    known = set(scan(ctx.workspace, ctx.secret_patterns()).secrets)  # values masked in any case
    extra = ctx.secret_patterns()
    keep, skipped = [], []
    for hit in hits:
        path = hit[0]
        secret = path in known or is_secret_path(path, extra)
        if secret and not ctx.may_read_secret(path):
            if path not in skipped:
                skipped.append(path)
            continue
        keep.append(hit)
    return keep, skipped


def _compile(args: SearchArgs) -> re.Pattern[str]:
    flags = re.IGNORECASE if args.ignore_case else 0
    source = re.escape(args.pattern) if args.literal else args.pattern
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise InvalidInput(
            f"pattern {args.pattern!r} is not a valid regex: {exc}",
            hint="fix the regex or set literal=true to search plain text",
        ) from None


def _clip(text: str) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= MAX_LINE else text[:MAX_LINE] + " [...]"


async def _ripgrep(rg: str, workspace: Path, shown: str, args: SearchArgs) -> tuple[list, bool]:
    cmd = [rg, "--json", "--no-require-git", "--hidden", "--glob", "!.git", "--no-config"]
    cmd += ["--sort", "path"]  # stable results: the same call gives the same first max_results
    cmd += ["--max-filesize", str(MAX_FILE_BYTES)]
    if args.literal:
        cmd.append("--fixed-strings")
    if args.ignore_case:
        cmd.append("--ignore-case")
    if args.glob:
        cmd += ["--glob", args.glob]
    cmd += ["--regexp", args.pattern, "--", shown]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        cwd=workspace,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=8 * 1024 * 1024,
    )
    hits: list[tuple[str, int, str, bytes]] = []
    truncated = False
    assert proc.stdout is not None and proc.stderr is not None
    errors = asyncio.create_task(proc.stderr.read())  # drained alongside so rg never blocks on it
    try:
        # ripgrep opens by name and blocks for good on a FIFO swapped in for a listed file
        async with asyncio.timeout(RG_TIME_LIMIT):
            async for raw in proc.stdout:
                if not raw.startswith(b'{"type":"match"'):
                    continue
                event = json.loads(raw)["data"]
                path = Path(os.fsdecode(_raw(event["path"]))).as_posix()
                lines = event["lines"]
                hits.append((path, event["line_number"], _text(lines), _raw(lines)))
                if len(hits) >= args.max_results:
                    truncated = True
                    break
    except TimeoutError:
        raise InvalidInput(
            f"search stopped after {RG_TIME_LIMIT:g} s without finishing (a file that never "
            "ends, such as a FIFO, or a very large tree)",
            hint="narrow the path or glob",
        ) from None
    finally:
        # stopped early (enough matches, or cancelled): os.kill, not proc.kill(), which polls
        # first and may reap the child under asyncio's watcher (it then reports exit code 255)
        if not proc.stdout.at_eof():
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        err = await errors
        await proc.wait()
    # exit 2 = an error; with matches it is usually an unreadable file, which we tolerate
    if not truncated and proc.returncode == 2 and not hits:
        text = err.decode(errors="replace").strip()
        last = text.splitlines()[-1] if text else "ripgrep error"
        if "regex parse error" in text:
            raise InvalidInput(
                f"pattern {args.pattern!r} is not a valid regex: {last.removeprefix('error: ')}",
                hint="fix the regex or set literal=true to search plain text",
            )
        raise InvalidInput(
            f"search failed: {last}",
            hint="check the pattern and glob",
        )
    return hits, truncated


def _confirmed(workspace: Path, hits: list, hidden: str | None = None) -> list:
    """The ripgrep matches whose line is, right now, that line of a regular file reached from the
    workspace's real path with no link followed (nofollow.open_file, as the Python engine reads).

    ripgrep walks and opens by name: a folder or file swapped for a link between its directory
    listing and its open (a command of another session on the same workspace) made it read a
    file outside the workspace, or a secret file under an innocent name, and report its lines
    under a workspace path. A line that cannot be confirmed is dropped, so no byte is reported
    that the workspace's own file does not hold.
    """
    root = os.path.realpath(workspace)
    files: dict[str, list[bytes] | None] = {}
    kept = []
    for rel, n, text, raw in hits:
        if hidden is not None and (hidden == "." or rel.startswith(hidden + "/")):
            continue  # the data dir: the tools never read it
        if rel not in files:
            files[rel] = _lines_of(root, rel)
        lines = files[rel]
        if lines is not None and 0 < n <= len(lines) and lines[n - 1] == raw.removesuffix(b"\n"):
            kept.append((rel, n, text))
    return kept


def _lines_of(root: str, rel: str) -> list[bytes] | None:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return None
    got = nofollow.read_regular(os.path.join(root, *parts), MAX_FILE_BYTES)
    if got is None:
        return None
    data = got[0]
    return data.split(b"\n")


def _text(obj: dict) -> str:
    return _raw(obj).decode("utf-8", errors="replace")


def _raw(obj: dict) -> bytes:
    if "text" in obj:
        return obj["text"].encode("utf-8", errors="surrogateescape")
    import base64

    return base64.b64decode(obj.get("bytes", ""))


def _python(
    workspace: Path,
    real: Path,
    regex: re.Pattern[str],
    args: SearchArgs,
    hidden: str | None = None,
) -> tuple[list, bool]:
    ignore = GitIgnore(workspace, hidden)
    glob = PathPattern(args.glob) if args.glob else None
    hits: list[tuple[str, int, str]] = []
    start = rel_posix(workspace, real)
    root = os.path.realpath(workspace)  # files are opened from it with no link followed
    if real.is_file():
        files = [start]
    else:
        files = _files(ignore, "" if start == "." else start)
    for rel in files:
        if glob and not glob.matches(rel):
            continue
        for n, line in _grep(Path(root) / rel, regex):
            hits.append((rel, n, line))
            if len(hits) >= args.max_results:
                return hits, True
    return hits, False


def _files(ignore: GitIgnore, start: str):
    if start and ignore.ignored(start, is_dir=True):
        return
    for rel_dir, _dirs, files in ignore.walk(start):
        prefix = rel_dir + "/" if rel_dir else ""
        for name in files:
            yield prefix + name


def _grep(path: Path, regex: re.Pattern[str]):
    try:  # only regular files, opened non-blocking: a FIFO met in the walk would block forever
        # no link followed on the way either: a folder swapped for one mid-walk reads outside
        fd = nofollow.open_file(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return
        data = fh.read(MAX_FILE_BYTES + 1)
    if looks_binary(data):
        return
    text = data.decode("utf-8", errors="replace")
    for n, line in enumerate(text.splitlines(), 1):
        if regex.search(line):
            yield n, line
