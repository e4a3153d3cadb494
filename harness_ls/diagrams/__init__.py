"""Mermaid diagrams to PNG (`make diagrams`, the docs step): hash-tracked so only changed sources
re-render. `render.py`, `render_io.py` and `render_tools.py` are standard library only:
`agentctl init` ships them as scripts/render-diagrams and the two modules it loads next to it."""

from __future__ import annotations

from harness_ls.diagrams.render import RenderResult, markdown_image, render_diagrams
from harness_ls.diagrams.render_tools import tool_paths

__all__ = ["RenderResult", "markdown_image", "render_diagrams", "tool_paths"]
