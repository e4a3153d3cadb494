"""/v1/specs: a new spec from the template, or one generated from a prompt."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from harness_ls.http.api import Call, Endpoint
from harness_ls.http.models import SpecCreated, SpecGenerate, SpecNew


def _created(result: Any) -> SpecCreated:
    if isinstance(result, SpecCreated):
        return result
    if isinstance(result, str | Path):
        path = Path(result)
        text = path.read_text("utf-8", "replace") if path.is_file() else None
        return SpecCreated(path=str(path), text=text)
    if hasattr(result, "model_dump"):
        data = result.model_dump(mode="json")
    elif isinstance(result, dict):
        data = dict(result)
    else:
        data = {"path": str(result)}
    path = str(data.pop("path", data.pop("spec_path", "")))
    text = data.pop("text", None)
    return SpecCreated(path=path, text=text, extra=data)


async def new_spec(call: Call) -> SpecCreated:
    b: SpecNew = call.body
    out = call.harness.new_spec(b.workspace, b.name)
    if asyncio.iscoroutine(out):
        out = await out
    return _created(out)


async def generate_spec(call: Call) -> SpecCreated:
    b: SpecGenerate = call.body
    out = await call.harness.spec_from_prompt(
        b.workspace, b.name, b.prompt, overwrite=b.overwrite, model=b.model
    )
    return _created(out)


ENDPOINTS = [
    Endpoint(
        "POST",
        "/v1/specs",
        new_spec,
        "Create a spec from the template",
        body=SpecNew,
        response=SpecCreated,
        status=201,
        tag="specs",
    ),
    Endpoint(
        "POST",
        "/v1/specs/generate",
        generate_spec,
        "Generate a spec from a prompt",
        body=SpecGenerate,
        response=SpecCreated,
        status=201,
        tag="specs",
    ),
]
