"""Session attachments: stored under `sessions/<id>/attachments/`, referenced as `attachments/<name>`.

Names are sanitized and de-duplicated (`shot.png`, `shot-1.png`), the MIME type is sniffed from
the bytes (a declared type that contradicts them is refused), and a ref can never leave the
session's attachments directory. When a message uses a ref, images become vision input, audio
becomes audio input, and text-like files are inlined (capped).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any

from harness_ls.errors import InvalidInput, NotFound, QuotaExceeded, Refused
from harness_ls.private import private_dir, write_private

MAX_BYTES = 20 * 1024 * 1024  # the one upload limit: API, store, CLI messages and docs
# Quotas (MiB; agentd reads the variables at each upload): without them an authenticated client
# could fill the disk holding the data dir with 20 MiB uploads, one after the other.
SESSION_QUOTA_ENV, TOTAL_QUOTA_ENV = (
    "HARNESS_ATTACHMENTS_SESSION_MB",
    "HARNESS_ATTACHMENTS_TOTAL_MB",
)
SESSION_QUOTA_MB, TOTAL_QUOTA_MB = 200, 2048
_quota_lock = threading.Lock()  # two uploads at once must not both fit in the last room
MAX_INLINE_TEXT = 100_000  # characters of a text attachment sent inline
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"WAVE", 8, "audio/wav"),
    (b"ID3", 0, "audio/mpeg"),
    (b"\xff\xfb", 0, "audio/mpeg"),
    (b"\xff\xf3", 0, "audio/mpeg"),
    (b"OggS", 0, "audio/ogg"),
    (b"fLaC", 0, "audio/flac"),
]
_TEXT_LIKE = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-yaml",
    "application/toml",
)
SUPPORTED = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "audio/",
    "application/pdf",
) + _TEXT_LIKE


def sniff_mime(data: bytes, name: str = "") -> str | None:
    """The MIME type the bytes really are; None when unknown binary."""
    for magic, offset, mime in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if mime == "image/webp" and data[:4] != b"RIFF":
                continue
            if mime == "audio/wav" and data[:4] != b"RIFF":
                continue
            return mime
    if b"\0" in data[:8192]:
        return None
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data[:65536]) - 4:  # not just a cut multi-byte char at the end
            return None
    import mimetypes

    guessed = mimetypes.guess_type(name)[0] if name else None
    if guessed and guessed.startswith(_TEXT_LIKE):
        return guessed
    return "text/plain"


def is_text(mime: str) -> bool:
    return mime.startswith(_TEXT_LIKE)


def check_mime(data: bytes, name: str, declared: str | None) -> str:
    """The MIME type to store; InvalidInput when unsupported or contradicting the bytes."""
    sniffed = sniff_mime(data, name)
    if sniffed is None:
        raise InvalidInput(
            f"unsupported attachment {name!r}: unknown binary format",
            hint="attach images (png, jpeg, gif, webp), audio (wav, mp3, ogg, flac), pdf or text files",
        )
    if declared and declared != "application/octet-stream":
        declared = declared.split(";")[0].strip().lower()
        # Source files carry odd registered types (.rs application/rls-services+xml, .sql
        # application/sql, .bat application/x-msdos-program): readable text declared as some
        # application/* type is text, not a contradiction.
        same_family = (
            declared.split("/")[0] == sniffed.split("/")[0]
            or (is_text(declared) and is_text(sniffed))
            or (is_text(sniffed) and declared.startswith("application/"))
        )
        if not same_family:
            raise InvalidInput(
                f"attachment {name!r} is declared {declared} but its content is {sniffed}",
                hint="send the right --mime or leave it out to have it detected",
            )
        if is_text(declared) and is_text(sniffed):
            sniffed = declared
    if not sniffed.startswith(SUPPORTED):
        raise InvalidInput(f"unsupported attachment type {sniffed} for {name!r}")
    return sniffed


def _quota(env: str, default: int) -> int:
    raw = os.environ.get(env, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = default  # a bad value must not lift the quota
    return int(max(value, 0) * (1 << 20))


def _used(folder: Path) -> int:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    total = 0
    for entry in entries:
        try:
            total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            pass
    return total


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def check_quota(directory: Path, size: int) -> None:
    """QuotaExceeded (413) when `size` more bytes would pass the session's quota or the data
    dir's (every session's attachments: `directory` is `<data>/sessions/<id>/attachments`)."""
    session_limit = _quota(SESSION_QUOTA_ENV, SESSION_QUOTA_MB)
    session = _used(directory)
    if session + size > session_limit:
        raise QuotaExceeded(
            f"this session's attachments would take {_mib(session + size)}; the limit per "
            f"session is {_mib(session_limit)} ({SESSION_QUOTA_ENV})",
            hint=f"start a new session for more files, or restart agentd with {SESSION_QUOTA_ENV} "
            "set higher",
        )
    sessions = directory.parent.parent
    total_limit = _quota(TOTAL_QUOTA_ENV, TOTAL_QUOTA_MB)
    try:
        folders = [Path(e.path) / "attachments" for e in os.scandir(sessions) if e.is_dir()]
    except OSError:
        folders = [directory]
    total = sum(_used(f) for f in folders)
    if total + size > total_limit:
        raise QuotaExceeded(
            f"attachments of all sessions would take {_mib(total + size)}; the limit for the "
            f"data dir is {_mib(total_limit)} ({TOTAL_QUOTA_ENV})",
            hint=f"delete old sessions' attachments under {sessions}/<id>/attachments, or "
            f"restart agentd with {TOTAL_QUOTA_ENV} set higher",
        )


def safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip()
    cleaned = _SAFE.sub("_", base).strip("._") or "attachment"
    return cleaned[:120]


def unique_path(directory: Path, name: str) -> Path:
    """`name`, or `stem-1.ext`, `stem-2.ext`, ... when taken."""
    candidate = directory / name
    stem, dot, ext = name.partition(".")
    i = 1
    while candidate.exists():
        candidate = directory / f"{stem}-{i}{dot}{ext}"
        i += 1
    return candidate


def store_attachment(
    directory: Path, name: str, data: bytes, mime: str | None = None
) -> dict[str, Any]:
    """Write the bytes under a unique name; returns {ref, name, mime, bytes, sha256}."""
    if not data:
        raise InvalidInput(f"attachment {name!r} is empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            f"attachment {name!r} is {len(data)} bytes; the limit is {MAX_BYTES} bytes "
            f"({MAX_BYTES / (1 << 20):g} MiB)",
            hint="attach a smaller file or an excerpt",
        )
    final_mime = check_mime(data, name, mime)
    with _quota_lock:
        check_quota(directory, len(data))
        private_dir(directory)
        target = unique_path(directory, safe_name(name))
        write_private(target, data)
    return {
        "ref": f"attachments/{target.name}",
        "name": target.name,
        "mime": final_mime,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def resolve_ref(directory: Path, ref: str) -> Path:
    """The file a ref names; Refused outside the attachments dir, NotFound when missing."""
    rel = ref.removeprefix("attachments/")
    if not rel or rel.startswith("/") or ".." in Path(rel).parts:
        raise Refused(f"attachment ref {ref!r} is outside the session's attachments")
    root = directory.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise Refused(f"attachment ref {ref!r} is outside the session's attachments")
    if not path.is_file():
        raise NotFound(
            f"unknown attachment ref {ref!r}",
            hint="attach the file first (`agentctl session attach --file ...`) and use the ref it returns",
        )
    return path


def content_part(path: Path, mime: str | None = None) -> Any:
    """The message part for an attachment: image/audio/file data, or inlined text."""
    from harness_ls.models import ContentPart

    data = path.read_bytes()
    mime = mime or sniff_mime(data, path.name) or "application/octet-stream"
    if is_text(mime):
        text = data.decode("utf-8", errors="replace")
        cut = ""
        if len(text) > MAX_INLINE_TEXT:
            text, cut = text[:MAX_INLINE_TEXT], f"\n[… cut at {MAX_INLINE_TEXT} characters]"
        return ContentPart(
            type="text", text=f"Attachment {path.name} ({mime}):\n```\n{text}{cut}\n```"
        )
    return ContentPart.from_bytes(data, mime, name=path.name)


def needs_for(mimes: list[str]) -> set[str]:
    """Model capabilities the attachments need."""
    needs: set[str] = set()
    for m in mimes:
        if m.startswith("image/"):
            needs.add("vision")
        elif m.startswith("audio/"):
            needs.add("audio")
    return needs


_NEED_OF = {"image": "vision", "audio": "audio"}


def part_problem(part: Any, info: Any, provider: Any) -> str | None:
    """Why this model cannot be sent the part (None: it can): the model's capabilities first,
    then the formats its provider's wire format accepts."""
    if part.type == "text":
        return None
    need = _NEED_OF.get(part.type)
    if need and info is not None and not info.supports(need):
        return f"{getattr(info, 'qualified', 'the model')} has no {need} input"
    check = getattr(provider, "part_problem", None)
    return check(part) if check is not None else None


def fit_to_model(messages: list[Any], info: Any, provider: Any) -> list[dict[str, Any]]:
    """Replace, in place, every attachment part the model cannot take with a short note to the
    model, so one unsupported file never blocks a turn; returns what was dropped, per message
    index: [{"message", "name", "mime", "reason"}]."""
    from harness_ls.models import ContentPart

    dropped: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        if isinstance(msg.content, str):
            continue
        parts, changed = [], False
        for part in msg.content:
            reason = part_problem(part, info, provider)
            if reason is None:
                parts.append(part)
                continue
            name = part.name or part.mime or "attachment"
            dropped.append({"message": i, "name": name, "mime": part.mime, "reason": reason})
            note = f"[attachment {name} could not be sent to you: {reason}]"
            parts.append(ContentPart.from_text(note))
            changed = True
        if changed:
            messages[i] = msg.model_copy(update={"content": parts})
    return dropped
