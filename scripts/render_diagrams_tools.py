"""Which diagram tools there are, where, and how to install a missing one.

Standard library only: `agentctl init` copies this file next to `scripts/render-diagrams` as
`scripts/render_diagrams_tools.py` (render.py loads it from there when it runs as a script).
With `confine` (a run's workspace) no tool whose real path is inside it is used: the agent can
change those files, and the renderer runs outside the sandbox.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

MMDC_PACKAGE = "@mermaid-js/mermaid-cli@11"
MMDC_INSTALL = (
    f"PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .tools --no-audit --no-fund {MMDC_PACKAGE}"
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass
class MissingTool:
    """A tool a source needs that is not installed, with the exact way to install it."""

    tool: str
    needed_for: list[str]
    install: str

    def message(self) -> str:
        return f"{self.tool} not found (needed for {', '.join(self.needed_for)}).\n{self.install}"


def find_mmdc(root: Path, confine: Path | None = None) -> str | None:
    """$MMDC, then PATH (skipping PyPI's unrelated `mmdc` package), then project-local installs.
    With `confine` (a run's workspace), nothing whose real path is inside it: the agent can
    change those files, and the renderer runs outside the sandbox."""
    if os.environ.get("MMDC"):
        return os.environ["MMDC"]
    candidates = [shutil.which("mmdc")]
    candidates += [str(root / d / "node_modules" / ".bin" / "mmdc") for d in (".tools", ".")]
    for c in candidates:
        if c and os.access(c, os.X_OK) and not _is_pypi_mmdc(c) and outside(c, confine):
            return c
    return None


def outside(path: str, confine: Path | None) -> bool:
    """Whether a tool's real path (and so the code it runs) is outside `confine`."""
    if confine is None:
        return True
    return not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(confine))


def _is_pypi_mmdc(path: str) -> bool:
    """PyPI's deprecated `mmdc` installs a Python script of the same name; npm's is a node link."""
    try:
        with open(os.path.realpath(path), "rb") as f:
            head = f.read(200)
    except OSError:
        return False
    return head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]


def find_chromium() -> str | None:
    env = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if env and os.access(env, os.X_OK):
        return env
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def find_awsdac(confine: Path | None = None) -> str | None:
    """`awsdac` on PATH, not one inside `confine` (a workspace folder on PATH, such as bin/)."""
    found = shutil.which("awsdac")
    return found if found and outside(found, confine) else None


def tool_paths(root: Path) -> dict[str, str | None]:
    """Where each diagram tool was found (None: missing), for `agentctl doctor`."""
    return {"mmdc": find_mmdc(root), "chromium": find_chromium(), "awsdac": find_awsdac()}


def missing_tools(root: Path, needed: list[Path], confine: Path | None = None) -> list[MissingTool]:
    """What is not installed for these sources, each with the exact install command."""
    out: list[MissingTool] = []
    mmd = [s.name for s in needed if s.suffix == ".mmd"]
    dac = [s.name for s in needed if s.suffix == ".dac"]
    if mmd and not find_mmdc(root, confine) and find_mmdc(root):
        out.append(
            MissingTool(
                "mmdc",
                mmd,
                f"the only mmdc is inside the workspace ({find_mmdc(root)}), where the agent "
                "can change it, so a run does not start it: it would run outside the sandbox.\n"
                f"Install it outside the workspace (npm install -g {MMDC_PACKAGE}) or set "
                "MMDC=/path/to/mmdc; `make diagrams` (scripts/render-diagrams) still uses the "
                "project's copy when you run it yourself.",
            )
        )
    elif mmd and not find_mmdc(root):
        node = (
            ""
            if shutil.which("npm")
            else "First install Node.js >= 18 with npm (Debian: apt-get install -y nodejs npm).\n"
        )
        out.append(
            MissingTool(
                "mmdc",
                mmd,
                f"{node}Install it into the project (git-ignored .tools/):\n  cd {root} && {MMDC_INSTALL}\nor put an `mmdc` on PATH, or set MMDC=/path/to/mmdc.",
            )
        )
    if mmd and not find_chromium():
        out.append(
            MissingTool(
                "chromium",
                mmd,
                "mmdc drives a system Chromium: apt-get install -y chromium (or set PUPPETEER_EXECUTABLE_PATH to a Chrome/Chromium binary).",
            )
        )
    if dac and not find_awsdac(confine) and find_awsdac():
        inside = (
            f"the only awsdac on PATH is inside the workspace ({find_awsdac()}), where the agent "
            "can change it, so a run does not start it: it would run outside the sandbox.\n"
            "Install it outside the workspace or put another folder first on PATH."
        )
        out.append(MissingTool("awsdac", dac, inside))
    elif dac and not find_awsdac():
        out.append(
            MissingTool(
                "awsdac",
                dac,
                "Install AWS diagram-as-code (Go): go install github.com/awslabs/diagram-as-code/cmd/awsdac@latest and put $(go env GOPATH)/bin on PATH.",
            )
        )
    return out
