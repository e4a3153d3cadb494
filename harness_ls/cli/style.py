"""Terminal colours and symbols: off for NO_COLOR, --no-color, pipes and TERM=dumb.

A leaf of cli/, so the event printer and the approval painter share it without importing each other.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
         "bold": "1", "dim": "2"}  # fmt: skip


# `Style.paint` writes its colours as markers only this process knows (private-use characters
# and a random nonce); `for_terminal` turns them into escape sequences after making every other
# control character visible. So no text from a model, a file or a run — whatever bytes it holds,
# our own colour codes included — can colour, move or hide anything on your terminal, wherever
# it is printed.
_OPEN, _CLOSE = "\ue000", "\ue001"
_NONCE = "".join(chr(0xE100 + b) for b in os.urandom(8))
PAINTED = re.compile(f"{_OPEN}{_NONCE}([0-9;]+){_CLOSE}")
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: str, stream: Any) -> str:
    """`text` as a terminal may receive it: on a terminal, control and bidi characters are made
    visible (`⟨ESC⟩]52;…` — a model's OSC 52 would otherwise write your clipboard, `ESC[2J` clear
    the screen, `ESC[8m` hide a line of a diff, `ESC[31m` paint an added line as a deleted one),
    then our own colours are written; piped output (`agentctl diff > x.patch`) keeps every byte."""
    if _isatty(stream) and _HIDDEN.search(text):
        from harness_ls.core.views import reveal

        text = reveal(text, keep_tabs=True, kinds=frozenset({"control", "bidi"}))
    return PAINTED.sub(_sgr, text) if _OPEN in text else text


def _sgr(m: re.Match[str]) -> str:
    return f"\x1b[{m.group(1)}m"


def visible_len(text: str) -> int:
    """Width of painted text as shown (colour markers and escape sequences take no column)."""
    return len(_SGR.sub("", PAINTED.sub("", text)))


class Style:
    def __init__(self, color: bool, unicode: bool = True) -> None:
        self.color = color
        self.unicode = unicode

    @classmethod
    def detect(cls, *, no_color: bool = False, stream: TextIO | None = None) -> Style:
        stream = stream or sys.stdout
        forced = os.environ.get("FORCE_COLOR", "") not in ("", "0")
        color = not no_color and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        color = color and (forced or _isatty(stream))
        encoding = (getattr(stream, "encoding", None) or "").lower()
        return cls(color, unicode="utf" in encoding)

    def paint(self, text: str, *names: str) -> str:
        if not self.color or not text:
            return text
        codes = ";".join(CODES[n] for n in names)
        return f"{_OPEN}{_NONCE}{codes}{_CLOSE}{text}{_OPEN}{_NONCE}0{_CLOSE}"

    def red(self, t: str) -> str:
        return self.paint(t, "red")

    def green(self, t: str) -> str:
        return self.paint(t, "green")

    def yellow(self, t: str) -> str:
        return self.paint(t, "yellow")

    def cyan(self, t: str) -> str:
        return self.paint(t, "cyan")

    def bold(self, t: str) -> str:
        return self.paint(t, "bold")

    def dim(self, t: str) -> str:
        return self.paint(t, "dim")

    # symbols with ASCII fallbacks
    @property
    def ok(self) -> str:
        return self.green("✓" if self.unicode else "ok")

    @property
    def bad(self) -> str:
        return self.red("✗" if self.unicode else "x")

    @property
    def warn(self) -> str:
        return self.yellow("!")

    @property
    def arrow(self) -> str:
        return self.cyan("→" if self.unicode else "->")

    @property
    def bullet(self) -> str:
        return self.bold("●" if self.unicode else "*")

    def diff(self, text: str, indent: str = "") -> str:
        """Colour a diff by line kind. Coloured, the file bytes in it are revealed first, also
        into a pipe (`FORCE_COLOR=1 agentctl diff | less -R`, where `for_terminal` keeps bytes):
        a model's `+⟨ESC⟩[31mrm -rf ~` would otherwise pass for a deleted line in the pager."""
        if self.color and _HIDDEN.search(text):
            from harness_ls.core.views import reveal

            text = reveal(text, keep_tabs=True, kinds=frozenset({"control", "bidi"}))
        out = []
        for line in text.splitlines():
            if line.startswith(("+++", "---")):
                line = self.bold(line)
            elif line.startswith("+"):
                line = self.green(line)
            elif line.startswith("-"):
                line = self.red(line)
            elif line.startswith("@@"):
                line = self.cyan(line)
            elif line.startswith("diff --git"):
                line = self.bold(line)
            out.append(indent + line)
        return "\n".join(out)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
