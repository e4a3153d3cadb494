"""Workspace: per-tool-call snapshots in a shadow repository, and a run's diff / revert / gc.

Core functions with no host imports; the CLI (`agentctl diff/revert/checkpoints gc`), the
HTTP route `/v1/runs/{id}/diff` and the runtime call these directly. Snapshots live in a shadow
repository under the data dir (shadow.py); diff and revert are recomputed from a run's events.
"""

from __future__ import annotations

from harness_ls.workspace.changeset import RunChanges, load_changes
from harness_ls.workspace.checkpoints import call_after, call_before, step_checkpoint
from harness_ls.workspace.gc import GcReport, delete_run, gc
from harness_ls.workspace.git import GitError, GitLocked, NotAGitRepo
from harness_ls.workspace.revert import FileOutcome, RevertReport, revert
from harness_ls.workspace.rundiff import RunDiff, combined_diff, run_diff
from harness_ls.workspace.snapshot import SkippedFile

__all__ = [
    "FileOutcome",
    "GcReport",
    "GitError",
    "GitLocked",
    "NotAGitRepo",
    "RevertReport",
    "RunChanges",
    "RunDiff",
    "SkippedFile",
    "call_after",
    "call_before",
    "combined_diff",
    "delete_run",
    "gc",
    "load_changes",
    "revert",
    "run_diff",
    "step_checkpoint",
]
