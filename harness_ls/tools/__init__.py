"""Tools the agent can call, workspace containment, and the approval policy.

`TOOLS` maps names to tool objects; `tool_specs()` gives their JSON Schemas for models;
`parse_args` validates arguments; `resolve_path` keeps every path inside the workspace;
`Policy.decide` says allow / ask / deny and which rule decided.
"""

from __future__ import annotations

from typing import Any

from harness_ls.tools import sandbox
from harness_ls.tools.base import (
    ActionPreview,
    LineRange,
    Tool,
    ToolContext,
    ToolResult,
    cut_middle,
    error_result,
    parse_args,
)
from harness_ls.tools.edit import Edit, plan_edit
from harness_ls.tools.files import ListDir, ReadFile, WriteFile
from harness_ls.tools.git import GitDiff, working_tree_diff
from harness_ls.tools.paths import rel_posix, resolve_path
from harness_ls.tools.policy import Decision, Policy, command_prefix
from harness_ls.tools.search import Search
from harness_ls.tools.shell import Shell, scrub_env

TOOLS: dict[str, Tool] = {
    t.name: t for t in (ReadFile(), ListDir(), Search(), Edit(), WriteFile(), Shell(), GitDiff())
}


def tool_specs(names: list[str] | None = None) -> list[dict[str, Any]]:
    """{"name", "description", "parameters"} for each tool (all, or `names` in that order)."""
    chosen = names if names is not None else list(TOOLS)
    unknown = [n for n in chosen if n not in TOOLS]
    if unknown:
        from harness_ls.errors import InvalidInput

        raise InvalidInput(
            f"unknown tools: {', '.join(unknown)}", hint="known: " + ", ".join(TOOLS)
        )
    return [TOOLS[n].spec() for n in chosen]


__all__ = [
    "TOOLS",
    "ActionPreview",
    "Decision",
    "LineRange",
    "Policy",
    "Tool",
    "ToolContext",
    "ToolResult",
    "command_prefix",
    "cut_middle",
    "error_result",
    "parse_args",
    "plan_edit",
    "rel_posix",
    "resolve_path",
    "sandbox",
    "scrub_env",
    "tool_specs",
    "working_tree_diff",
]
