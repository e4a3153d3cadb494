"""Workspace: `init` scaffolding, git checkpoints / diff / revert / gc, and the diagram renderer.

Core functions with no host imports; the CLI (`agentctl init/diff/revert/checkpoints gc`), the
HTTP route `/v1/runs/{id}/diff` and the runtime call these directly.
"""

from __future__ import annotations

from harness_ls.workspace.checkpoints import (
    Checkpoint,
    SkippedFile,
    checkpoint,
    diff,
    finalize,
    list_checkpoints,
    list_runs,
)
from harness_ls.workspace.diagrams import RenderResult, markdown_image, render_diagrams, tool_paths
from harness_ls.workspace.gc import GcReport, delete_run, gc
from harness_ls.workspace.git import GitError, GitLocked, NotAGitRepo
from harness_ls.workspace.revert import FileOutcome, RevertReport, revert
from harness_ls.workspace.scaffold import InitReport, init

__all__ = [
    "Checkpoint",
    "FileOutcome",
    "GcReport",
    "GitError",
    "GitLocked",
    "InitReport",
    "NotAGitRepo",
    "RenderResult",
    "RevertReport",
    "SkippedFile",
    "checkpoint",
    "delete_run",
    "diff",
    "finalize",
    "gc",
    "init",
    "list_checkpoints",
    "list_runs",
    "markdown_image",
    "render_diagrams",
    "revert",
    "tool_paths",
]
