"""/v1/approvals (pending, across runs and sessions) and answering one from a run or session."""

from __future__ import annotations

from typing import Any

from harness_ls.errors import NotFound
from harness_ls.http.api import Call, Endpoint
from harness_ls.http.models import ApprovalAnswer
from harness_ls.http.routes.common import meta_model, surface_of

PendingApproval: Any = meta_model("PendingApproval", "harness_ls.agent.approvals")


async def list_approvals(call: Call) -> Any:
    return call.harness.pending_approvals()


def _owner_matches(approval: Any, field: str, owner_id: str) -> bool:
    return getattr(approval, field, None) == owner_id


async def _answer(call: Call, field: str, owner_id: str, approval_id: str) -> Any:
    harness = call.harness
    harness.store.get("run" if field == "run_id" else "session", owner_id)
    pending = {a.id: a for a in harness.pending_approvals()}
    if approval_id in pending and not _owner_matches(pending[approval_id], field, owner_id):
        raise NotFound(
            f"approval {approval_id} does not belong to {owner_id}",
            hint="list pending approvals with GET /v1/approvals",
        )
    body: ApprovalAnswer = call.body
    return await harness.answer_approval(
        approval_id, body.decision, surface_of(call.request), body.note, scope=body.scope
    )


async def answer_run_approval(call: Call) -> Any:
    return await _answer(call, "run_id", call.params["run_id"], call.params["step_id"])


async def answer_session_approval(call: Call) -> Any:
    return await _answer(call, "session_id", call.params["session_id"], call.params["call_id"])


ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/approvals",
        list_approvals,
        "Pending approvals across runs and sessions",
        response=list[PendingApproval],
        tag="approvals",
    ),
    Endpoint(
        "POST",
        "/v1/runs/{run_id}/approvals/{step_id}",
        answer_run_approval,
        "Approve or deny a run's gated step",
        body=ApprovalAnswer,
        response=PendingApproval,
        tag="approvals",
    ),
    Endpoint(
        "POST",
        "/v1/sessions/{session_id}/approvals/{call_id}",
        answer_session_approval,
        "Approve or deny a session's gated tool call",
        body=ApprovalAnswer,
        response=PendingApproval,
        tag="approvals",
    ),
]
