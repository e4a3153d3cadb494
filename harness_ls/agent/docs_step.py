"""The docs step, diagram-first, with the loop closed: the model edits docs and diagram sources,
the runtime renders what changed **inside** the step and feeds render errors back to the model
for a bounded number of fixes, then corrects the image links itself (relative to each Markdown
file). What cannot be fixed by the model — a missing renderer — becomes a run warning, so the
run ends "completed with warnings" instead of silently linking PNGs that do not exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import harness_ls.nofollow as nofollow

MAX_DOC_BYTES = 8 * 1024 * 1024  # a Markdown file larger than this is not relinked
MAX_HASHED_BYTES = 16 * 1024 * 1024  # a larger changed file is compared by size and mtime
MAX_DIAGRAM_FIXES = 2  # model rounds to repair a diagram that fails to render
DIAGRAMS_DIR = Path("docs") / "diagrams"
_IMAGE = re.compile(r"!\[(?P<alt>[^\]\n]*)\]\((?P<path>[^)\s]+\.png)\)")


@dataclass
class DocsOutcome:
    text: str = ""
    paths: list[str] = field(default_factory=list)  # files changed by the docs step
    diagrams: list[str] = field(default_factory=list)  # PNGs rendered (workspace-relative)
    links_fixed: list[str] = field(default_factory=list)  # "doc: old -> new"
    warnings: list[str] = field(default_factory=list)  # what the user must know or do


def fix_prompt(failed: dict[str, str], attempt: int) -> str:
    errors = "\n\n".join(f"docs/diagrams/{name}:\n{error}" for name, error in failed.items())
    return (
        f"These diagrams failed to render (fix attempt {attempt} of {MAX_DIAGRAM_FIXES}). Fix the "
        f"Mermaid syntax in the .mmd source (edit it; do not touch the PNG), then answer with one "
        f"sentence.\n\n{errors}"
    )


def relink(text: str, doc: Path, workspace: Path) -> tuple[str, list[str]]:
    """Point every image link to a diagram PNG at the right path from `doc`'s folder.

    A link counts as a diagram link when a `docs/diagrams/<name>.mmd|.dac` source exists for
    its file name; other images are left alone. Returns (text, ["old -> new", ...]).
    """
    from harness_ls.diagrams import markdown_image

    diagrams = workspace / DIAGRAMS_DIR
    changes: list[str] = []

    def fix(m: re.Match[str]) -> str:
        name = Path(m["path"]).name
        stem = Path(name).stem
        if not any((diagrams / f"{stem}{ext}").is_file() for ext in (".mmd", ".dac")):
            return m[0]
        good = markdown_image(doc, diagrams / name, m["alt"])
        if good != m[0]:
            changes.append(f"{m['path']} -> {good[good.index('(') + 1 : -1]}")
        return good

    return _IMAGE.sub(fix, text), changes


def relink_docs(workspace: Path, paths: list[str]) -> list[str]:
    """Rewrite diagram image links in the changed Markdown files; returns "doc: old -> new".

    Read and written by descriptors from the workspace's real path, no link followed on the way
    nor at the file (`nofollow`): the temp file was made by name, so a `.<doc>.harness-tmp` link
    a cloned repository shipped (or the agent made) took the model's Markdown to `~/.bashrc` or
    into `.harness/`; a folder swapped for a link mid-step would do the same. A Markdown link
    is left alone too: following it would copy its target into the workspace."""
    root = os.path.realpath(workspace)
    out: list[str] = []
    for rel in paths:
        parts = rel.split("/")
        if Path(rel).suffix.lower() not in (".md", ".markdown") or _unsafe(parts):
            continue
        folder = os.path.join(root, *parts[:-1])
        read = _read_doc(folder, parts[-1])
        if read is None:
            continue
        text, mode = read
        new, changes = relink(text, workspace / rel, workspace)
        if changes:
            try:
                nofollow.replace_in(folder, parts[-1], new.encode("utf-8"), mode)
            except OSError:  # a link on the way now: nothing written, nothing to report
                continue
            out += [f"{rel}: {c}" for c in changes]
    return out


def _unsafe(parts: list[str]) -> bool:
    return any(p in ("", ".", "..") or p.lower() in (".git", ".harness") for p in parts)


def _read_doc(folder: str, name: str) -> tuple[str, int] | None:
    """A regular file's text and mode, reached with no link followed; None otherwise."""
    got = nofollow.read_regular(os.path.join(folder, name), MAX_DOC_BYTES)
    if got is None:
        return None
    return got[0].decode("utf-8", errors="replace"), stat.S_IMODE(got[1])


async def render(
    stream: Any,
    workspace: Path,
    step_id: str | None,
    *,
    checkpoints: bool = True,
    only: set[str] | None = None,
) -> Any:
    """Render the stale diagrams among `only` (source names the run changed; the `make diagrams`
    renderer); None when there is nothing to do. A diagram the run did not touch — say the one
    `agentctl init` scaffolded, on a machine without mmdc — is not the run's business."""
    folder = workspace / DIAGRAMS_DIR
    if not folder.is_dir() or only is not None and not only:
        return None
    from harness_ls.agent.checkpoints import harness_write
    from harness_ls.diagrams import render_diagrams

    try:
        result = await harness_write(
            stream,
            workspace,
            "render_diagrams",
            step_id,
            # never a renderer from the workspace: the agent can change it, and it runs unsandboxed
            partial(render_diagrams, root=workspace, only=only, confine=workspace),
            folder,
            checkpoints=checkpoints,
        )
    except Exception as exc:  # noqa: BLE001 - docs are best effort; said, never fatal
        await _log(stream, "diagrams.failed", f"{type(exc).__name__}: {exc}", step_id)
        return None
    for name in result.rendered:
        png = (DIAGRAMS_DIR / Path(name).with_suffix(".png").name).as_posix()
        await stream.append("artifact.written", {"path": png, "kind": "diagram"}, step_id=step_id)
    return result


async def _log(stream: Any, code: str, message: str, step_id: str | None) -> None:
    await stream.append(
        "log", {"level": "warning", "code": code, "message": message}, step_id=step_id
    )


async def run_docs_step(engine: Any, step: Any) -> DocsOutcome:
    """The model's docs step, then render → feed errors back → relink, as one loop."""
    from harness_ls.agent import prompts
    from harness_ls.agent.ids import new_id
    from harness_ls.agent.plan import PlanStep
    from harness_ls.agent.summary import changed_files

    ws: Path = engine.workspace
    stream = engine.stream
    out = DocsOutcome()
    before = await fingerprint(ws, await changed_files(ws))
    out.text = await engine._execute_step(step, prompts.DOCS, kind="docs")
    after = await fingerprint(ws, await changed_files(ws))
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    touched = diagram_names(changed) | await asyncio.to_thread(run_diagrams, engine)
    result = await render(stream, ws, step.id, checkpoints=engine.options.checkpoints, only=touched)
    for attempt in range(1, MAX_DIAGRAM_FIXES + 1):
        if result is None or not result.failed or result.missing:
            break
        for name, error in result.failed.items():
            await _log(stream, "diagrams.failed", f"{name}: {error}", step.id)
        fix = PlanStep(id=new_id("st"), title=f"Fix diagram syntax (attempt {attempt})")
        await engine._execute_step(fix, fix_prompt(result.failed, attempt), kind="docs")
        result = await render(
            stream, ws, fix.id, checkpoints=engine.options.checkpoints, only=touched
        )
    if result is not None:
        out.diagrams = [
            (DIAGRAMS_DIR / Path(n).with_suffix(".png").name).as_posix() for n in result.rendered
        ]
        for tool in result.missing:
            await _log(stream, "diagrams.tool_missing", tool.message(), step.id)
            out.warnings.append(
                f"diagrams not rendered: {tool.tool} is not installed "
                f"(needed for {', '.join(tool.needed_for)}; `make diagrams` says how to install it)"
            )
        for name, error in result.failed.items():
            await _log(stream, "diagrams.failed", f"{name}: {error}", step.id)
            first = error.splitlines()[0] if error else "render failed"
            out.warnings.append(f"diagram docs/diagrams/{name} does not render: {first}")
    # compared by content, not by `git status` lines: a file that already had uncommitted
    # edits shows the same status line before and after the docs step changed it again
    after = await fingerprint(ws, await changed_files(ws))
    out.paths = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    from harness_ls.agent.checkpoints import harness_write

    out.links_fixed = await harness_write(
        stream,
        ws,
        "relink_docs",
        step.id,
        relink_docs,
        ws,
        out.paths,
        checkpoints=engine.options.checkpoints,
    )
    return out


def status_paths(lines: list[str]) -> list[str]:
    """Paths of `git status --porcelain` lines (a rename counts as its new path)."""
    out = []
    for line in lines:
        path = line[3:]
        if " -> " in path:
            path = path.split(" -> ", 1)[1]
        out.append(path.strip('"'))
    return out


async def fingerprint(workspace: Path, lines: list[str]) -> dict[str, str | None]:
    """path -> sha256 of its content (None: absent) for the paths git reports as changed.

    As git sees them: a link is its target's name, never what it points at (`zero -> /dev/zero`
    filled the daemon's memory, a link to a FIFO hung the run); only regular files are read,
    opened with no link followed and non-blocking (one swapped in after the lstat is not
    followed), and a file over MAX_HASHED_BYTES by its size and mtime: a 50 GiB sparse file
    the agent made (`truncate -s 50G x`, no disk used) was read whole into the daemon's memory."""

    def build() -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for rel in status_paths(lines):
            path = workspace / rel
            try:
                if stat.S_ISLNK(path.lstat().st_mode):
                    data = b"link:" + os.fsencode(os.readlink(path))
                else:
                    data = _content_key(path)
            except OSError:
                out[rel] = None
                continue
            if data is not None:
                out[rel] = hashlib.sha256(data).hexdigest()
        return out

    return await asyncio.to_thread(build)


def _content_key(path: Path) -> bytes | None:
    """A regular file's bytes (its size and mtime when larger than MAX_HASHED_BYTES); None for
    anything else."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    with os.fdopen(os.open(path, flags), "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > MAX_HASHED_BYTES:
            return f"big:{st.st_size}:{st.st_mtime_ns}".encode()
        return fh.read(MAX_HASHED_BYTES + 1)


def diagram_names(paths: list[str]) -> set[str]:
    """Diagram source names (`flow.mmd`) among workspace-relative paths."""
    base = DIAGRAMS_DIR.as_posix() + "/"
    return {
        p[len(base) :]
        for p in paths
        if p.startswith(base) and "/" not in p[len(base) :] and Path(p).suffix in (".mmd", ".dac")
    }


def run_diagrams(engine: Any) -> set[str]:
    """Diagram sources the run's tool calls changed, from its checkpoint deltas (all segments)."""
    try:
        events = engine.harness.store.reader("run", engine.run_id).read()
        paths = [
            f.get("path", "")
            for ev in events
            if ev.type == "checkpoint.delta" and isinstance(ev.data, dict)
            for f in ev.data.get("files") or []
        ]
    except Exception:  # noqa: BLE001 - no log to read: the docs step's own changes decide
        return set()
    return diagram_names(paths)


async def docs_phase(engine: Any) -> None:
    """The run's docs phase: the model's docs step (or, offline, the summary) and `docs.updated`."""
    from harness_ls.agent.ids import new_id
    from harness_ls.agent.plan import PlanStep, goal_summary

    engine.phase = "docs"
    if engine.offline_reason or not engine.options.docs:
        await engine.stream.append(
            "docs.updated", {"by": "summary", "paths": ["artifacts/summary.md"]}
        )
        return
    step = PlanStep(
        id=new_id("st"),
        title="Update documentation",
        spec_line=goal_summary(engine.spec_text)[1],
    )
    docs = await run_docs_step(engine, step)
    engine.warnings += docs.warnings
    await engine.stream.append(
        "docs.updated",
        {
            "by": "model",
            "paths": docs.paths,
            "diagrams": docs.diagrams,
            "links_fixed": docs.links_fixed,
            "warnings": docs.warnings,
            "text": docs.text[:1000],
        },
        step_id=step.id,
    )
