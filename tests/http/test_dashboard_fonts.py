"""Every character the dashboard draws has a font on this machine (Debian's chromium draws with
DejaVu/Liberation; a glyph none of them has, like ⏻ U+23FB, shows as an empty box)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import require_tool

STATIC = Path(__file__).resolve().parents[2] / "harness_ls" / "http" / "static"


def test_every_character_the_dashboard_draws_has_a_font_here():
    """Debian's chromium draws with DejaVu/Liberation: a glyph none of the installed fonts has
    (⏻ U+23FB was one) shows as an empty box. Every non-ASCII character in the static files
    must be covered (fontconfig's fc-list, installed with chromium)."""
    fc_list = require_tool(shutil.which("fc-list"), "fc-list", "apt-get install -y fontconfig")
    chars = {ch for f in STATIC.glob("*.*") if f.suffix in (".js", ".html", ".css")
             for ch in f.read_text(encoding="utf-8") if ord(ch) > 127}  # fmt: skip
    missing = [
        f"U+{ord(ch):04X} {ch}"
        for ch in sorted(chars)
        if not subprocess.run(
            [fc_list, f":charset={ord(ch):x}", "family"], capture_output=True, text=True, timeout=30
        ).stdout.strip()  # fmt: skip
    ]
    assert missing == [], f"no installed font draws: {missing}; use an inline SVG"
