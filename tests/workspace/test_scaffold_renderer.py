"""The renderer `agentctl init` ships: scripts/render-diagrams and the two modules it loads from
its own folder (scripts/render_diagrams_io.py, scripts/render_diagrams_tools.py), run from a
freshly scaffolded repository by `make diagrams` (real make, real python, no harness-ls on the
path). A fake `mmdc` (a real script that writes a PNG-ish file at `-o`) stands in for mermaid-cli.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from harness_ls.diagrams import render
from harness_ls.scaffold import init
from harness_ls.scaffold.init import RENDERER_FILES
from tests.conftest import require_tool


def _scaffolded(tmp_path: Path) -> Path:
    ws = tmp_path / "repo"
    ws.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    init(ws)
    return ws


def _env(tmp_path: Path) -> dict[str, str]:
    """PATH with a working fake mmdc, and nothing that would make harness_ls importable."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mmdc = bin_dir / "mmdc"
    mmdc.write_text('#!/bin/sh\nwhile [ "$1" != -o ]; do shift; done\nprintf PNG > "$2"\n')
    mmdc.chmod(mmdc.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if k not in ("MMDC", "PYTHONPATH")}
    python_dir = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([str(bin_dir), python_dir, "/usr/bin", "/bin"])
    env["PUPPETEER_EXECUTABLE_PATH"] = "/bin/true"
    return env


def test_make_diagrams_in_a_scaffolded_repo_renders_with_the_shipped_copies(tmp_path: Path):
    make = require_tool("make")
    ws = _scaffolded(tmp_path)
    proc = subprocess.run(
        [make, "diagrams"], cwd=ws, env=_env(tmp_path), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rendered   architecture.mmd -> architecture.png" in proc.stdout
    assert (ws / "docs/diagrams/architecture.png").read_bytes() == b"PNG"
    manifest = json.loads((ws / "docs/diagrams/.hashes.json").read_text())
    assert manifest["diagrams"]["architecture.mmd"]["output"] == "architecture.png"


@pytest.mark.parametrize("flags", [["-I"], ["-P"]])
def test_the_shipped_script_finds_its_modules_off_sys_path(tmp_path: Path, flags: list[str]):
    """`python -I` and `-P` (or PYTHONSAFEPATH) leave the script's folder off sys.path: the
    script loads its two modules by their path next to it, not by an import."""
    ws = _scaffolded(tmp_path)
    proc = subprocess.run(
        [sys.executable, *flags, "scripts/render-diagrams", "--check"],
        cwd=ws,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr  # EXIT_STALE: nothing rendered yet
    assert "stale      architecture.mmd (run scripts/render-diagrams)" in proc.stdout


def test_the_script_without_a_module_next_to_it_says_which_and_how(tmp_path: Path):
    ws = _scaffolded(tmp_path)
    (ws / "scripts/render_diagrams_io.py").unlink()
    proc = subprocess.run(
        [sys.executable, "scripts/render-diagrams"],
        cwd=ws,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 3
    assert proc.stderr == (
        f"render-diagrams: {ws / 'scripts/render_diagrams_io.py'} is missing: run `agentctl "
        "init` again (it writes the script and the files next to it)\n"
    )


def _imported_top_names(tree: ast.Module) -> set[str]:
    """Top-level modules imported, leaving out the branch taken inside the package only."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__package__":
            node.body = []  # `import harness_ls.diagrams.render_io as dio`: the package's way
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_every_shipped_renderer_file_imports_only_the_standard_library():
    package = Path(render.__file__).parent
    for shipped, _dest in RENDERER_FILES:
        tree = ast.parse((package / shipped).read_text(encoding="utf-8"))
        outside = _imported_top_names(tree) - set(sys.stdlib_module_names) - {"__future__"}
        assert outside == set(), shipped
