"""OpenAPI 3.1 document built from the endpoint table and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from harness_ls import __version__
from harness_ls.http.api import Endpoint
from harness_ls.http.models import ErrorResponse

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {
    "401": "Missing or wrong token",
    "404": "Unknown id",
    "409": "Conflicts with the current state",
    "413": "Body too large",
    "415": "Wrong content type",
    "421": "Host not allowed",
    "422": "Invalid input; details.fields lists the fields",
}


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _schema_for(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if _is_model(tp):
        return {"$ref": REF.format(model=tp.__name__)}
    schema = TypeAdapter(tp).json_schema(ref_template=REF)
    defs.update(schema.pop("$defs", {}))
    return schema


def build(endpoints: list[Endpoint]) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorResponse}
    for ep in endpoints:
        for tp in (ep.body, ep.response):
            if _is_model(tp):
                models.add(tp)
    _, top = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        op: dict[str, Any] = {
            "summary": ep.summary,
            "operationId": ep.handler.__name__,
            "tags": [ep.tag],
            "parameters": [],
            "responses": {},
        }
        for name in re.findall(r"{(\w+)}", ep.path):
            op["parameters"].append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
        if ep.query is not None:
            qs = ep.query.model_json_schema()
            required = set(qs.get("required", []))
            for name, prop in qs.get("properties", {}).items():
                op["parameters"].append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
        if ep.kind == "sse":
            op["parameters"].append(
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                }
            )
        if ep.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=ep.body.__name__)}}
                },
            }
        if ep.multipart:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                            "required": ["file"],
                        }
                    }
                },
            }
        ok: dict[str, Any] = {"description": "OK"}
        if ep.kind == "sse":
            ok["content"] = {"text/event-stream": {"schema": {"type": "string"}}}
        elif ep.kind == "file":
            ok["content"] = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
        elif ep.response is not None:
            ok["content"] = {"application/json": {"schema": _schema_for(ep.response, schemas)}}
        op["responses"][str(ep.status)] = ok
        for code, text in ERROR_STATUSES.items():
            op["responses"][code] = {
                "description": text,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}
                },
            }
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "harness-ls agentd API",
            "version": __version__,
            "description": "Runs, approvals, sessions and specs; SSE event streams. "
            "Errors are {error: {code, message, hint?}}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "harness_session"},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }
