"""The `repo_map` tool: the agent asks for the ranked map (and excerpts) for a query mid-run."""

from __future__ import annotations

import asyncio

from pydantic import Field

from harness_ls.tools.base import Tool, ToolArgs, ToolContext, ToolResult

from .build import MAX_BUDGET, MIN_BUDGET, build_context


class RepoMapArgs(ToolArgs):
    query: str = Field(
        "",
        description="What you are looking for: identifiers, file paths or words. Empty: whole-repo map.",
    )
    budget: int = Field(
        4000, ge=MIN_BUDGET, le=MAX_BUDGET, description="Maximum tokens of the answer."
    )


class RepoMapTool(Tool):
    name = "repo_map"
    description = (
        "Show a map of the repository ranked for a query: the most relevant files with their key "
        "definitions (line: signature), plus excerpts of the code that matches. Use it to find where "
        "things are before reading files."
    )
    kind = "read"
    Args = RepoMapArgs

    async def _run(self, ctx: ToolContext, args: RepoMapArgs) -> ToolResult:
        res = await asyncio.to_thread(
            build_context, ctx.workspace, args.query, args.budget, data_dir=ctx.data_dir
        )
        return ToolResult(
            ok=True,
            output=res.text or "(the repository has no files to map)",
            data={"files": res.files, "tokens": res.tokens, "notes": res.notes},
        )


REPO_MAP = RepoMapTool()


async def repo_map(ctx: ToolContext, query: str = "", budget: int = 4000) -> ToolResult:
    """Function form of the tool, for callers that do not go through the tool registry."""
    return await REPO_MAP.run(ctx, {"query": query, "budget": budget})
