"""Mermaid diagrams to PNG (`make diagrams`, the docs step): hash-tracked so only changed sources
re-render. `render.py` is standard library only: `agentctl init` ships it as scripts/render-diagrams."""

from __future__ import annotations

from harness_ls.diagrams.render import RenderResult, markdown_image, render_diagrams, tool_paths

__all__ = ["RenderResult", "markdown_image", "render_diagrams", "tool_paths"]
