"""Efficient context gathering: a ranked repo map and targeted excerpts within a token budget.

`build_context(workspace, task, budget_tokens)` is what the runtime's plan/execute prompts use,
`render_context(...)` is exactly the text the agent sees (what `agentctl context` prints), and
`REPO_MAP` / `repo_map(...)` is the tool form. See docs/context.md.
"""

from __future__ import annotations

from .build import ContextResult, build_context, render_context
from .tokens import count_tokens, tokenizer_name

__all__ = [
    "ContextResult",
    "build_context",
    "count_tokens",
    "render_context",
    "tokenizer_name",
]


def __getattr__(name: str):  # the tool imports harness_ls.tools; load it only when asked
    if name in ("REPO_MAP", "RepoMapTool", "repo_map"):
        from . import tool

        return getattr(tool, name)
    raise AttributeError(name)
