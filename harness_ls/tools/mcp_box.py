"""A workspace-declared MCP server runs in the same sandbox as the agent's commands.

`.harness/mcp.toml` is only read once the user trusted its exact content, but the program it
names usually lives in the workspace (`python {workspace}/tools/srv.py`, `node ./mcp/index.js`),
where the agent can rewrite it in mode auto-edit; started as the user, the next start would run
the agent's code outside the sandbox. So such a server gets the agent's box (bubblewrap, else
Landlock): the workspace per the sandbox mode, no `.git/`/`.harness/` writes, secret files
masked, an empty `$HOME` with the toolchain allowlist, the network only when the sandbox
settings allow it. The user's own servers (user config.toml) run as configured.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness_ls.tools import sandbox


@dataclass
class ServerBox:
    """How to start one server: argv, environment additions, and the private temp dir to remove
    when it stops (None when not boxed)."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    tmp: str | None = None
    kind: str = "none"

    def cleanup(self) -> None:
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def box_server(argv: list[str], workspace: Path, data_dir: Path | None) -> ServerBox:
    """`argv` wrapped like an agent command in `workspace` (unchanged when the user turned the
    sandbox off, or when neither bubblewrap nor Landlock works: `agentctl doctor` warns)."""
    settings = sandbox.load(workspace, data_dir)
    if settings.mode == "off":
        return ServerBox(list(argv), kind="off")
    tmp = tempfile.mkdtemp(prefix="harness-mcp-")
    try:
        boxed = sandbox.prepare(
            list(argv), workspace=workspace, tmpdir=Path(tmp), settings=settings,
            data_dir=data_dir, env=dict(os.environ),
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ServerBox(boxed.argv, dict(boxed.env), tmp, boxed.kind)
