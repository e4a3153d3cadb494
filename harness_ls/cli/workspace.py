"""Which workspace a command works on, and where a spec path given on the command line lies.

`cd specs && agentctl run --spec login/spec.md` must work on the repository, as git does from a
subfolder: without `--workspace`, the workspace is the git work tree holding the current folder.
Pure path logic (no git is run: a hostile `.git/config` gets no say in which folder this is).
"""

from __future__ import annotations

import os
from pathlib import Path

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError


def workspace_arg(raw: str | None, cwd: Path | None = None, home: Path | None = None) -> Path:
    """The folder given with --workspace, else the nearest folder from the current one up that
    holds `.git`, else the current folder. `$HOME` itself is picked only from `$HOME`: a dotfiles
    repository there must not make every project below it one workspace."""
    if raw is not None:
        path = Path(raw).expanduser()
        if not path.is_dir():
            raise CliError(
                f"workspace {raw} is not a directory",
                exit_code=ex.USAGE,
                hint="pass the project folder with --workspace, or run the command inside it",
            )
        return path.resolve()
    here = (cwd or Path.cwd()).resolve()
    top = _home(home)
    for d in (here, *here.parents):
        if d == top and d != here:
            break
        if os.path.lexists(d / ".git"):
            return d
    return here


def spec_arg(spec: str, ws: Path, cwd: Path | None = None) -> str:
    """A relative spec path as the workspace sees it: relative to the workspace when it names a
    file there, else relative to the current folder when that folder is inside the workspace and
    the file is there (`cd specs && … --spec login/spec.md`); otherwise unchanged."""
    path = Path(spec).expanduser()
    if path.is_absolute() or (ws / path).is_file():
        return spec
    here = (cwd or Path.cwd()).resolve()
    near = here / path
    if here != ws and here.is_relative_to(ws) and near.is_file():
        return near.relative_to(ws).as_posix()
    return spec


def _home(home: Path | None) -> Path | None:
    if home is not None:
        return home.resolve()
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError):
        return None
