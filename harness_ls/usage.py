"""How token totals read when some model calls reported no usage.

One wording for every surface (summary, agentctl, dashboard mirrors it in app.js): a total is
exact, a lower bound ("≥ N") when some calls did not report, or "n/a" when none did.
"""

from __future__ import annotations

from typing import Any


def tokens_text(usage: dict[str, Any] | None) -> str:
    """ "1200→80 tokens", "≥ 1200→80 tokens", or "tokens n/a" (no call reported usage)."""
    usage = usage or {}
    tin, tout = usage.get("input_tokens"), usage.get("output_tokens")
    if tin is None and tout is None:
        return "tokens n/a" if usage.get("model_calls") else ""
    prefix = "≥ " if usage.get("unreported_calls") else ""
    return f"{prefix}{tin or 0}→{tout or 0} tokens"
