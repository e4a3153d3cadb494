"""Plain aligned tables and relative times for list output (ANSI-aware widths)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from harness_ls.cli.style import visible_len

# a line break inside a cell would start a row of its own: a cloned repository's
# `specs/fix\nr-… completed …/spec.md` listed a run that does not exist
_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")
_NAMES = {"\n": "LF", "\r": "CR", "\x0b": "VT", "\x0c": "FF"}


def one_line(text: str) -> str:
    """`text` with every line break shown as a marker (`⟨LF⟩`), so a cell stays one row."""
    return _BREAKS.sub(lambda m: "".join(_marker(c) for c in m.group()), text)


def _marker(ch: str) -> str:
    return f"⟨{_NAMES[ch]}⟩" if ch in _NAMES else f"⟨U+{ord(ch):04X}⟩"


def table(headers: list[str], rows: list[list[str]], max_width: int = 60) -> str:
    rows = [[one_line(str(c)) for c in row] for row in rows]
    cells = [[c if visible_len(c) <= max_width else c[: max_width - 1] + "…"
              for c in row] for row in rows]  # fmt: skip
    widths = [max([len(h)] + [visible_len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        parts = [c + " " * (w - visible_len(c)) for c, w in zip(row, widths, strict=True)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def age(ts: str | None, now: datetime | None = None) -> str:
    """'3m ago' from an ISO-8601 UTC timestamp; the raw text when it does not parse."""
    if not ts:
        return ""
    try:
        when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    secs = int(((now or datetime.now(UTC)) - when).total_seconds())
    if secs < 60:
        return f"{max(secs, 0)}s ago"
    if secs < 3600:
        return f"{secs // 60}m ago"
    if secs < 86400:
        return f"{secs // 3600}h ago"
    return f"{secs // 86400}d ago"
