"""Export a run or session as a zip: meta.json, events.ndjson, spec.md, summary.md, artifacts/.

The zip is deterministic for a given log (sorted entries, timestamps from the stream's creation
time, fixed permissions), so two exports of a finished run are byte-identical.
"""

from __future__ import annotations

import os
import zipfile
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from harness_ls.private import open_private
from harness_ls.store.events import Event
from harness_ls.store.log import parse_line
from harness_ls.store.meta import RunMeta, SessionMeta, storage_error

SKIP = {"export.zip", ".lock"}


def snapshot_log(path: Path) -> bytes:
    """The log up to its last complete line (a live writer may be mid-line)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b""
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""


def build_zip(dir_: Path, meta: RunMeta | SessionMeta, out: Path) -> Path:
    log = snapshot_log(dir_ / "events.ndjson")
    events = [ev for ev in (parse_line(line) for line in log.split(b"\n") if line) if ev]
    files: list[tuple[str, bytes]] = [
        ("meta.json", (meta.model_dump_json(indent=2) + "\n").encode()),
        ("events.ndjson", log),
    ]
    spec = dir_ / "artifacts" / "spec.md"
    if spec.is_file():
        files.append(("spec.md", spec.read_bytes()))
    files.append(("summary.md", summary_md(meta, events).encode()))
    for sub in ("artifacts", "attachments"):
        root = dir_ / sub
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                files.append((path.relative_to(dir_).as_posix(), path.read_bytes()))
    stamp = _zip_time(meta.created_at)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with (
            os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf,
        ):
            for name, data in files:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise storage_error(out, exc) from None
    return out


def _zip_time(ts: str) -> tuple[int, int, int, int, int, int]:
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        return (max(dt.year, 1980), dt.month, dt.day, dt.hour, dt.minute, dt.second)
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)


def summary_md(meta: RunMeta | SessionMeta, events: Iterable[Event]) -> str:
    """A human-readable account: identity, outcome, steps, tools, approvals, verification."""
    events = list(events)
    kind = "Run" if meta.kind == "run" else "Session"
    lines = [
        f"# {kind} {meta.id}" + (f": {meta.title}" if meta.title else ""),
        "",
        f"- status: **{meta.status}**" + (f" ({meta.outcome})" if meta.outcome else ""),
        f"- workspace: `{meta.workspace}`",
    ]
    if meta.spec_path:
        lines.append(f"- spec: `{meta.spec_path}`")
    if meta.model:
        lines.append(f"- model: {meta.model}")
    lines += [f"- created: {meta.created_at}", f"- updated: {meta.updated_at}"]
    lines.append(f"- events: {len(events)} (last seq {events[-1].seq if events else 0})")
    steps = [e for e in events if e.type.startswith("step.")]
    if steps:
        lines += ["", "## Steps", ""]
        for e in steps:
            what = e.data.get("title") or e.step_id or ""
            extra = e.data.get("error") or e.data.get("summary") or ""
            lines.append(f"- `{e.type}` {what}" + (f" — {extra}" if extra else ""))
    tools = Counter(str(e.data.get("name")) for e in events if e.type == "tool.call")
    if tools:
        lines += ["", "## Tools", ""]
        lines += [f"- {name}: {n}" for name, n in sorted(tools.items())]
    approvals = [e for e in events if e.type == "approval.resolved"]
    if approvals:
        lines += ["", "## Approvals", ""]
        for e in approvals:
            who = e.data.get("surface") or "?"
            lines.append(f"- {e.step_id or e.call_id or ''}: {e.data.get('decision')} (by {who})")
    verify = [e for e in events if e.type == "verify.result"]
    if verify:
        lines += ["", "## Verification", ""]
        for e in verify:
            mark = "pass" if e.data.get("ok") else "FAIL"
            lines.append(f"- {mark}: `{e.data.get('command')}` (exit {e.data.get('exit_code')})")
    chat = [e for e in events if e.type in ("user.message", "message")]
    if meta.kind == "session" and chat:
        lines += ["", "## Conversation", ""]
        for e in chat:
            role = "user" if e.type == "user.message" else e.data.get("role", "assistant")
            content = e.data.get("content")
            text = content if isinstance(content, str) else "[multi-part message]"
            lines.append(f"**{role}**: {text}")
            lines.append("")
    ends = [e for e in events if e.type in ("run.failed", "step.failed") and e.data.get("error")]
    if ends:
        lines += ["", "## Last error", "", str(ends[-1].data.get("error"))]
    counts = Counter(e.type for e in events)
    lines += ["", "## Event counts", ""]
    lines += [f"- {t}: {n}" for t, n in sorted(counts.items())]
    return "\n".join(lines) + "\n"
