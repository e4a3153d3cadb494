"""Which workspace policy files the user trusts, by the sha256 of their exact content (like direnv).

A cloned repository (or the agent itself) can write `.harness/policy.toml`; until the user has
trusted that exact content, the file may only narrow the user's policy. Trust is recorded in
`<data_dir>/trusted-policies.json` (owner-only, 0600); any edit changes the hash and un-trusts it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from harness_ls.errors import InvalidInput

TRUST_FILE = "trusted-policies.json"
WORKSPACE_POLICY = Path(".harness") / "policy.toml"


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def workspace_policy(workspace: Path) -> Path:
    return Path(os.path.realpath(workspace)) / WORKSPACE_POLICY


def _store(data_dir: Path) -> Path:
    return Path(data_dir) / TRUST_FILE


def trusted(data_dir: Path | None) -> dict[str, str]:
    """policy file path -> trusted sha256. A damaged store trusts nothing (and says nothing)."""
    if data_dir is None:
        return {}
    try:
        doc = json.loads(_store(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def is_trusted(data_dir: Path | None, policy_file: Path, content: bytes) -> bool:
    key = os.path.realpath(policy_file)
    return trusted(data_dir).get(key) == digest(content)


def workspace_trusted(workspace: Path, data_dir: Path | None) -> bool:
    """True when the workspace's `.harness/policy.toml` exists and its exact content is trusted
    (what lets it widen the user's policy and loosen the sandbox)."""
    path = Path(workspace) / ".harness" / "policy.toml"
    try:
        content = path.read_bytes()
    except OSError:
        return False
    return is_trusted(data_dir, path, content)


def trust(data_dir: Path, policy_file: Path) -> str:
    """Trust the file's current content; returns its sha256."""
    try:
        content = Path(policy_file).read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {policy_file}: {exc.strerror or exc}",
            hint="run `agentctl init` to create it, or pass --workspace",
        ) from None
    sha = digest(content)
    files = trusted(data_dir)
    files[os.path.realpath(policy_file)] = sha
    _write(data_dir, files)
    return sha


def untrust(data_dir: Path, policy_file: Path) -> bool:
    files = trusted(data_dir)
    if files.pop(os.path.realpath(policy_file), None) is None:
        return False
    _write(data_dir, files)
    return True


def _write(data_dir: Path, files: dict[str, str]) -> None:
    """Atomic, owner-only: nobody else may read or forge what the user trusted."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    target = _store(data_dir)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "files": files}, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
