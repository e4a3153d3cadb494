"""Core-level presentation and patch helpers for hosts (issue 33: every host through the core).

Hosts (acp/, lsp/, http/, cli/) import these from here rather than from tools/, so the approval text
every surface shows and the patch applier stay one implementation reached through the core layer.
"""

from __future__ import annotations

from harness_ls.agent.verify import run_one
from harness_ls.tools import Policy, ToolContext
from harness_ls.tools.consent import shell_view
from harness_ls.tools.consent_text import as_view, plain, safe, text_lines, visible
from harness_ls.tools.diffapply import apply_unified_diff
from harness_ls.tools.reveal import reveal

__all__ = [
    "Policy",
    "ToolContext",
    "apply_unified_diff",
    "as_view",
    "plain",
    "reveal",
    "run_one",
    "safe",
    "shell_view",
    "text_lines",
    "visible",
]
