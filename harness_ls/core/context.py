"""`agentctl context` for hosts: the ranked context pack, optionally after the run's localization
pass (a model picks the files), exactly as a run would build it.

Lives in the core so hosts reach context/, models/ and agent/localize through one layer (issue 33).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.agent.localize import MIN_FILES, localize
from harness_ls.context import ContextResult, build_context
from harness_ls.models import resolve

__all__ = ["ContextResult", "build_context", "localize_files"]


async def localize_files(
    workspace: Path, task: str, data_dir: Path, exclude: list[str], model: str | None
) -> dict[str, Any]:
    """The localization pass as its event data (picked, fallback, note, model); without a model,
    or with a map too small to choose from, no picks and a note why."""
    resolved = resolve("run", {"tools"}, model, workspace=workspace, data_dir=data_dir)
    if resolved.is_offline:
        why = f"no model to localize with ({resolved.reason}); using the plain ranking"
        return {"picked": [], "fallback": True, "note": why}
    loc = await localize(resolved, workspace, task, data_dir, exclude)
    data: dict[str, Any] = loc.event_data() if loc is not None else {
        "picked": [], "fallback": True,
        "note": f"fewer than {MIN_FILES} files in the map: nothing to pick from; "
                "using the plain ranking",
    }  # fmt: skip
    data["model"] = resolved.name
    return data
