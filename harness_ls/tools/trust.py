"""Trust of a workspace's config files, for the tools package: see harness_ls/trust.py (one
trust for every workspace config file; a symlinked one is never trusted)."""

from __future__ import annotations

import os
from pathlib import Path

from harness_ls.trust import (
    POLICY,
    TRUST_FILE,
    ConfigFile,
    digest,
    locate,
    read_config,
    trust_config,
    trusted_files,
    untrust_config,
)

__all__ = [
    "TRUST_FILE", "WORKSPACE_POLICY", "ConfigFile", "digest", "is_trusted", "read_config",
    "trust", "trusted", "untrust", "workspace_policy", "workspace_trusted",
]  # fmt: skip

WORKSPACE_POLICY = Path(POLICY)
trusted = trusted_files


def workspace_policy(workspace: Path) -> Path:
    return Path(os.path.realpath(workspace)) / WORKSPACE_POLICY


def is_trusted(data_dir: Path | None, config_file: Path, content: bytes) -> bool:
    """Whether `content` is what the user trusted at that config file's place (never through a
    symlink)."""
    workspace, name = locate(config_file)
    file = read_config(workspace, name, None)
    if file.symlink:
        return False
    return trusted_files(data_dir).get(file.key) == digest(content)


def workspace_trusted(workspace: Path, data_dir: Path | None) -> bool:
    """True when the workspace's `.harness/policy.toml` exists and its exact content is trusted
    (what lets it widen the user's policy and loosen the sandbox)."""
    return read_config(workspace, POLICY, data_dir).trusted


def trust(data_dir: Path, config_file: Path) -> str:
    """Trust the file's current content; returns its sha256."""
    workspace, name = locate(config_file)
    return trust_config(data_dir, workspace, name).sha256 or ""


def untrust(data_dir: Path, config_file: Path) -> bool:
    workspace, name = locate(config_file)
    return untrust_config(data_dir, workspace, name)
