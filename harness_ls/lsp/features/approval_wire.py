"""The approval protocol on the wire, as specs-schema/approval-protocol.schema.json says it.

Editors read these ids and fields instead of re-parsing the rendered diagnostic text; the schema
is the contract (tests/lsp/test_approval_protocol.py validates real server messages against it,
and the VS Code client's types are generated from it). Pure functions of a PendingApproval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCHEMA_FILE = "approval-protocol.schema.json"
REQUESTED = "harness/approvalRequested"
RESOLVED = "harness/approvalResolved"


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def headline(approval: Any) -> str:
    """`(tool): title`, what the Approve / Deny actions and the diagnostic's first line say."""
    from harness_ls.core.views import as_view, safe

    return f"({safe(approval.tool)}): {as_view(approval).title}"


def ids(approval: Any) -> dict[str, Any]:
    """approval_id and run_id, plus `step_id` (its alias in run events and the HTTP API) when a
    run's step asks."""
    out: dict[str, Any] = {"approval_id": approval.id, "run_id": approval.run_id}
    if approval.run_id:
        out["step_id"] = approval.id
    return out


def action_data(approval: Any) -> dict[str, Any]:
    """`data` of the Approve / Deny / Approve similar / Show diff code actions."""
    return ids(approval)


def spec_uri(approval: Any) -> str | None:
    if approval.workspace and approval.spec_path:
        return (Path(approval.workspace) / approval.spec_path).as_uri()
    return None


def _described(approval: Any) -> dict[str, Any]:
    from harness_ls.core.views import as_view, safe

    return {
        **ids(approval),
        "session_id": approval.session_id,
        "tool": approval.tool,
        "title": as_view(approval).title,
        "summary": safe(str(_attr(approval.preview, "summary") or "")),
    }


def requested(approval: Any) -> dict[str, Any]:
    """Params of `harness/approvalRequested` (with the older id / runId / specUri names)."""
    uri = spec_uri(approval)
    return {
        **_described(approval),
        "spec_uri": uri,
        "id": approval.id,
        "runId": approval.run_id,
        "specUri": uri,
    }


def resolved(approval: Any) -> dict[str, Any]:
    """Params of `harness/approvalResolved`: answered anywhere, or cancelled."""
    decision = approval.decision if approval.decision in ("approve", "deny") else "cancelled"
    return {**_described(approval), "decision": decision, "surface": approval.surface}
