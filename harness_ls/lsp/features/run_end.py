"""What the editor says when a run ends: one line with the reason (a failed run's error, an
offline run's "nothing executed", who cancelled a run and where), and whether the client shows
it itself (then the server sends no window/showMessage, so the user reads it once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness_ls.lsp.runtime import RunView
    from harness_ls.lsp.server import HarnessLanguageServer


def end_message(
    state: str, data: dict[str, Any], offline: bool, view: RunView | None = None
) -> str:
    """What happened, in one line: a failed run says why (run.failed stores `error`), an
    offline run says that nothing was executed, a cancelled one who cancelled it and where it
    was ("cancelled from the editor while waiting for approval: write greet.txt")."""
    if state == "completed" and offline:
        return "completed offline: nothing executed — configure a model"
    why = data.get("error") or data.get("outcome") or data.get("reason") or ""
    if state == "cancelled" and why == "cancelled":
        here = view is not None and view.cancelled_here
        who = "from the editor" if here else "from outside the editor (dashboard, CLI or API)"
        step = view.step if view is not None else ""
        if step.startswith("waiting for approval"):
            where = f"while {step}"
        else:
            phase = data.get("phase")
            where = f"during {phase}" + (f" ({step})" if step else "") if phase else ""
        why = " ".join(x for x in (who, where) if x)
    return f"{state}: {why}" if why else state


def client_shows_run_ends(ls: HarnessLanguageServer) -> bool:
    """The VS Code extension renders harness/runStatus itself (progress + end message) and says
    so with `experimental.harnessRunNotifications`."""
    caps = ls.client_capabilities
    experimental = caps.experimental if caps is not None else None
    return isinstance(experimental, dict) and experimental.get("harnessRunNotifications") is True
