"""`init` for hosts: scaffold a workspace, then trust the policy file init itself wrote.

Lives in the core so hosts reach workspace/ and tools/trust through one layer (issue 33).
"""

from __future__ import annotations

from pathlib import Path

from harness_ls.errors import InvalidInput
from harness_ls.scaffold import InitReport, template_text
from harness_ls.scaffold import init as scaffold
from harness_ls.tools.trust import trust, workspace_policy


def init_workspace(
    workspace: Path, data_dir: Path, *, force: bool, dry_run: bool, with_schema: bool
) -> InitReport:
    """Scaffold `workspace` (NotAGitRepo outside a work tree); unless a dry run, trust the policy."""
    report = scaffold(workspace, force=force, dry_run=dry_run, with_schema=with_schema)
    if not dry_run:
        trust_init_policy(workspace, data_dir)
    return report


def trust_init_policy(workspace: Path, data_dir: Path) -> None:
    """The user ran init, so the policy file init writes (test runners allowed) is theirs: trust
    it. A pre-existing file with other content is left untrusted (it may come from a clone)."""
    path = workspace_policy(workspace)
    try:
        if path.read_bytes() == template_text("policy.toml").encode():
            trust(data_dir, path)
    except (OSError, InvalidInput):  # unreadable, or a symlink: never trusted
        pass
