"""The checks a run's inputs pass before anything starts: the workspace, the spec (found, read,
valid). Pure or nearly; the Harness calls them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.common import problem_dict, workspace_dir
from harness_ls.errors import HarnessError, InvalidInput


async def check_workspace(workspace: str) -> Path:
    """The resolved workspace; InvalidInput when missing or not a dir. A plain directory (not
    a git work tree) is accepted: checkpoints live in the shadow repo, not the user's git, and
    the run says which git-based extras it goes without (agent/repo.py `note_plain_dir`)."""
    return workspace_dir(workspace)


def resolved(path: str) -> Path:
    return Path(path).resolve()


def read_spec(ws: Path, spec: str) -> tuple[str, str]:
    """(spec path relative to the workspace, spec text): inline text, or a file inside the
    workspace that is no secret file (agent/specfile.py says why)."""
    if not spec or not spec.strip():
        raise InvalidInput("spec is required", hint="pass a path like specs/<name>/spec.md")
    if "\n" in spec:
        return "<inline>", spec
    from harness_ls.agent.specfile import read_spec_file

    return read_spec_file(ws, spec)


def _problems(text: str, ws: Path | None) -> list[Any]:
    """The validator's problems, with the workspace's own schema when it has one."""
    from harness_ls.spec import validate

    schema = None
    if ws is not None:
        try:
            from harness_ls.spec import load_schema

            schema = load_schema(ws)
        except (ImportError, HarnessError):
            schema = None
    return validate(text, schema) if schema is not None else validate(text)


def ensure_valid_spec(text: str, ws: Path | None = None, spec_path: str = "spec.md") -> None:
    """InvalidInput with the validator's problems as details when the spec has errors."""
    problems = _problems(text, ws)
    errors = [p for p in problems if str(getattr(p, "severity", "error")) == "error"]
    if errors:
        first = errors[0]
        raise InvalidInput(
            f"spec {spec_path} has {len(errors)} problem(s); first: {first.message}",
            hint="fix the problems shown in the editor or by `harness-ls check`",
            details=[problem_dict(p) for p in problems],
        )


def spec_warnings(ws: Path, spec: str) -> list[dict[str, Any]]:
    """The warnings of a spec a run was started with (`agentctl run` shows them: a run goes on
    with a spec still holding the template's placeholder, so say so); [] when unreadable."""
    try:
        _, text = read_spec(ws, spec)
    except HarnessError:
        return []
    return [problem_dict(p) for p in _problems(text, ws) if str(p.severity) == "warning"]
