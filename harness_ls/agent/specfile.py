"""Which file a spec path may name: checked where a run reads its spec and where a spec-mode
session reads and rewrites one.

A spec is read outside every tool (no policy, no approval, no sandbox): its text goes into the
model's prompt and the run's log, and a spec session rewrites the file with no approval at all.
So a path that a cloned repository controls must not lead anywhere a tool would have asked
about: `specs/setup/spec.md -> ../../.env` would send the user's keys to the model, and a spec
session on a link (or on `.harness/policy.toml`, `.vscode/settings.json`, `.envrc`) would
rewrite a file nobody approved. The checks resolve the real file; containment is decided on it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness_ls.errors import InvalidInput, Refused
from harness_ls.tools.protected import protected_reason, secret_reason

MAX_SPEC_BYTES = 1 << 20  # like every config file: a spec larger than 1 MiB is not a spec


def _real(ws: Path, spec: str) -> tuple[Path, Path]:
    """(the path as written, made absolute and normalised; the real file it names)."""
    path = Path(spec).expanduser()
    lexical = Path(os.path.normpath(path if path.is_absolute() else ws / path))
    return lexical, lexical.resolve()


def _links_below(ws: Path, lexical: Path) -> Path | None:
    """The first symbolic link on the way from the workspace to the file, if any (a link in the
    caller's own path above the workspace does not count)."""
    if not lexical.is_relative_to(ws):
        return lexical if lexical.is_symlink() else None
    current = ws
    for part in lexical.relative_to(ws).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def _contained(ws: Path, spec: str, real: Path, lexical: Path) -> str:
    """The real file's path relative to the workspace; Refused outside it or on a secret file."""
    if not real.is_relative_to(ws):
        via = f" (a link to {real})" if real != lexical else ""
        raise Refused(
            f"spec {spec} is outside the workspace {ws}{via}",
            hint="copy the spec into the workspace (e.g. specs/<name>/spec.md), "
            "or pass the folder that holds it as the workspace",
        )
    rel = real.relative_to(ws).as_posix()
    why = secret_reason(rel)
    if why is not None:
        via = f" (through the link {spec})" if real != lexical else ""
        raise Refused(
            f"spec {spec} is {rel}{via}, {why}: its text would go to the model",
            hint="name the spec file itself (specs/<name>/spec.md); a spec is never a secret file",
        )
    return rel


def read_spec_file(ws: Path, spec: str) -> tuple[str, str]:
    """(spec path relative to the workspace, text) of a run's spec: a regular file of at most
    1 MiB inside the workspace that is not a secret file; clear errors otherwise."""
    lexical, real = _real(ws, spec)
    if not real.is_file():
        raise InvalidInput(
            f"spec {spec} not found" + ("" if real.exists() else f" (looked at {lexical})"),
            hint="create one with `agentctl spec new <name>`",
        )
    rel = _contained(ws, spec, real, lexical)
    try:
        with real.open("rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise InvalidInput(f"spec {spec} is not a regular file")
            data = fh.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            raise InvalidInput(
                f"spec {spec} is larger than {MAX_SPEC_BYTES} bytes (1 MiB)",
                hint="a spec states the goal and the acceptance tests; move long material into "
                "files the agent can read",
            )
        return rel, data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read spec {spec}: {exc}") from exc


def session_spec_rel(ws: Path, spec: str) -> str:
    """The workspace-relative path a spec-mode session may read and rewrite without asking: a
    markdown file inside the workspace, reached without a symbolic link, that is neither a
    secret nor a protected file (git metadata, `.harness/`, `.env*`, editor settings)."""
    lexical, real = _real(ws, spec)
    rel = _contained(ws, spec, real, lexical)
    link = _links_below(ws, lexical)
    if link is not None:
        raise Refused(
            f"spec path {spec} goes through the symbolic link {link} (to {rel}): a spec session "
            "rewrites its file without asking, so it must be the file itself",
            hint=f"open the session on {rel} if that is the spec, or replace the link with a copy",
        )
    why = protected_reason(rel)
    if why is not None:
        raise Refused(
            f"spec path {spec} is {rel}, {why}: a spec session rewrites it without asking",
            hint="keep specs in markdown files such as specs/<name>/spec.md",
        )
    if real.suffix.lower() != ".md":
        raise InvalidInput(
            f"spec path {spec} is not a markdown file (.md)",
            hint="a spec session rewrites the file with a markdown spec: use specs/<name>/spec.md",
        )
    if real.exists() and not real.is_file():
        raise InvalidInput(f"spec path {spec} is not a file")
    return rel
