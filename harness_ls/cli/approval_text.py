"""An approval in the terminal: the shared approval view (core.views), painted.

The same lines the editor shows, with colours by meaning; every string is already revealed, so
no control character from a model reaches the terminal raw.
"""

from __future__ import annotations

from typing import Any

from harness_ls.cli.style import Style
from harness_ls.core.views import as_view, safe, text_lines

_PAINT: dict[str, tuple[str, ...]] = {
    "counts": ("dim",),
    "danger": ("red", "bold"),
    "warn": ("yellow",),
    "warning": ("red", "bold"),
    "label": ("dim",),
    "add": ("green",),
    "del": ("red",),
    "hunk": ("cyan",),
}


def approval_lines(style: Style, data: dict[str, Any], indent: str = "      ") -> list[str]:
    """Title line then the view's lines, for `attach`/`run` output and `agentctl approvals`."""
    view = as_view(data)
    head = f"{style.yellow('? approval needed')}: {safe(data.get('tool', ''))} — {view.title}"
    out = [head]
    for kind, text in text_lines(view):
        names = _PAINT.get(kind)
        out.append(indent + (style.paint(text, *names) if names else text))
    return out
