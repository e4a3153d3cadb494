"""/v1/attempts: N parallel attempts of one spec, compared side by side; apply one."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from harness_ls.http.api import Call, Endpoint
from harness_ls.http.models import Strict
from harness_ls.http.routes.common import meta_model

AttemptsView: Any = meta_model("AttemptsView", "harness_ls.executor.attempts")


class AttemptsCreate(Strict):
    workspace: str = Field(min_length=1, description="Absolute path of the workspace.")
    spec: str = Field(min_length=1, description="Spec path, relative to the workspace.")
    count: int = Field(3, ge=2, le=8, description="How many independent attempts.")
    models: list[str] = Field(
        default_factory=list,
        description="Models, one per attempt (cycled); default: the run default.",
    )


class AttemptApply(Strict):
    attempt: int = Field(ge=1, description="The attempt to apply (1-based).")


async def create(call: Call) -> Any:
    b: AttemptsCreate = call.body
    return await call.harness.start_attempts(b.workspace, b.spec, b.count, models=b.models)


async def list_all(call: Call) -> Any:
    book = call.harness.attempts
    return [book.view(g.id) for g in book.list()]


async def get_one(call: Call) -> Any:
    return call.harness.attempts.view(call.params["attempts_id"])


async def apply(call: Call) -> Any:
    b: AttemptApply = call.body
    report = await call.harness.attempts.apply(call.params["attempts_id"], b.attempt)
    return {**report.model_dump(), "summary": report.summary()}


async def discard(call: Call) -> Any:
    return await call.harness.attempts.discard(call.params["attempts_id"])


ENDPOINTS = [
    Endpoint("POST", "/v1/attempts", create, "Start N parallel attempts of a spec",
             body=AttemptsCreate, response=AttemptsView, status=201, tag="attempts"),
    Endpoint("GET", "/v1/attempts", list_all, "Attempt groups, newest first",
             response=list[AttemptsView], tag="attempts"),
    Endpoint("GET", "/v1/attempts/{attempts_id}", get_one, "Attempts side by side",
             response=AttemptsView, tag="attempts"),
    Endpoint("POST", "/v1/attempts/{attempts_id}/apply", apply,
             "Apply one attempt to the work tree; the others are discarded", body=AttemptApply,
             tag="attempts"),
    Endpoint("POST", "/v1/attempts/{attempts_id}/discard", discard,
             "Discard every attempt (nothing is applied)", tag="attempts"),
]  # fmt: skip
