"""`agentctl init` (a real agentctl, no daemon) on a cloned repository that plants links: init
writes AGENTS.md, specs/, docs/diagrams/, scripts/ and appends to .gitignore. A `.gitignore ->
~/.bashrc` had init append to your ~/.bashrc and a `scripts -> ~/.local/bin` had it write there
(both fail on ac122d8), and reading a `Makefile -> /dev/zero` never ended. Now nothing is written
outside the workspace: init refuses, naming the link, before writing anything.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_local import run


def _repo(root: Path) -> tuple[Path, Path]:
    ws, outside = root / "ws", root / "outside"
    ws.mkdir()
    outside.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws, outside


def _written(ws: Path) -> list[str]:
    """The workspace's entries, without the home and data dir the `run` helper puts there."""
    return sorted(p.name for p in ws.iterdir() if p.name not in ("home", "data"))


@pytest.mark.parametrize("force", [False, True])
def test_init_never_writes_through_a_link_out_of_the_workspace(tmp_path: Path, force: bool) -> None:
    ws, outside = _repo(tmp_path)
    bashrc = outside / "bashrc"
    bashrc.write_text("export PS1='$ '\n")
    os.symlink(bashrc, ws / ".gitignore")
    extra = ["--force"] if force else []
    r = run(ws, "init", *extra)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert f"init appends to .gitignore, but it is a link to {bashrc}" in r.stderr
    assert "replace it with a regular file, then run init again" in r.stderr
    assert bashrc.read_text() == "export PS1='$ '\n"
    assert _written(ws) == [".git", ".gitignore"]  # nothing written

    (ws / ".gitignore").unlink()
    os.symlink(outside, ws / "scripts")
    r = run(ws, "init", *extra)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert (
        "init writes scripts/render-diagrams, but scripts leads outside the workspace "
        f"(to {outside}) through a symbolic link"
    ) in r.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["bashrc"]
    assert _written(ws) == [".git", "scripts"]


def test_init_reads_no_project_file_that_is_a_device(tmp_path: Path) -> None:
    ws, _ = _repo(tmp_path)
    os.symlink("/dev/zero", ws / "Makefile")
    r = run(ws, "init")
    assert r.returncode == 0, r.stderr
    assert (ws / "AGENTS.md").is_file()
    assert os.readlink(ws / "Makefile") == "/dev/zero"


@pytest.mark.parametrize("planted", ["scripts/.render-diagrams.init-tmp", ".AGENTS.md.init-tmp"])
def test_init_never_writes_through_a_link_at_its_temp_file(tmp_path: Path, planted: str) -> None:
    """init wrote each file to `.<name>.init-tmp` by name, then chmod-ed and renamed it: a cloned
    repository shipping that name as a link to a file of yours had init overwrite it (and make
    it executable, for scripts/render-diagrams) — fails on b139fd5. Files are now written by
    descriptors through a fresh temp file, no link followed."""
    ws, outside = _repo(tmp_path)
    victim = outside / "git"
    victim.write_text('#!/bin/sh\nexec /usr/bin/git "$@"\n')
    victim.chmod(0o644)
    (ws / planted).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(victim, ws / planted)
    r = run(ws, "init")
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == '#!/bin/sh\nexec /usr/bin/git "$@"\n'
    assert victim.stat().st_mode & 0o777 == 0o644
    assert (ws / planted).is_symlink()  # left alone
    target = ws / planted.replace(".init-tmp", "").replace("/.", "/").removeprefix(".")
    assert target.is_file() and not target.is_symlink()
    assert os.access(target, os.X_OK) == target.name.startswith("render")
