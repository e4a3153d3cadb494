"""Generate docs/events.schema.json (JSON Schema 2020-12) from the event registry.

`python -m harness_ls.store.schema [PATH]` rewrites the file; tests/store/test_events_docs.py
fails when the committed file is not what this produces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from harness_ls.store.events import EVENT_TYPES, TERMINAL_RUN_EVENTS

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "events.schema.json"


def events_json_schema() -> dict[str, Any]:
    """One schema for an events.ndjson line: the envelope plus, per `type`, its data model."""
    models = sorted({et.model for et in EVENT_TYPES.values()}, key=lambda m: m.__name__)
    refs, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/$defs/{model}"
    )
    defs = top.get("$defs", {})
    variants = []
    for name in sorted(EVENT_TYPES):
        et = EVENT_TYPES[name]
        variants.append(
            {
                "if": {"properties": {"type": {"const": name}}},
                "then": {"properties": {"data": refs[(et.model, "validation")]}},
            }
        )
    id_pattern = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/harness-ls/harness-ls/docs/events.schema.json",
        "title": "harness-ls event (one line of events.ndjson)",
        "description": "See docs/events.md. Exactly one of run_id / session_id is present.",
        "type": "object",
        "required": ["seq", "id", "ts", "type", "data"],
        "properties": {
            "seq": {"type": "integer", "minimum": 1, "description": "gap-free per stream; SSE id"},
            "id": {"type": "string", "pattern": r"^ev_[0-9A-Z]{26}$"},
            "ts": {
                "type": "string",
                "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                "description": "UTC, milliseconds",
            },
            "type": {"enum": sorted(EVENT_TYPES)},
            "run_id": {"type": "string", "pattern": id_pattern},
            "session_id": {"type": "string", "pattern": id_pattern},
            "step_id": {"type": "string"},
            "call_id": {"type": "string"},
            "data": {"type": "object"},
        },
        "oneOf": [{"required": ["run_id"]}, {"required": ["session_id"]}],
        "allOf": variants,
        "x-durable-types": sorted(n for n, et in EVENT_TYPES.items() if et.durable),
        "x-chatty-types": sorted(n for n, et in EVENT_TYPES.items() if not et.durable),
        "x-terminal-run-types": sorted(TERMINAL_RUN_EVENTS),
        "$defs": defs,
    }


def render() -> str:
    return json.dumps(events_json_schema(), indent=2, sort_keys=False) + "\n"


def write_schema(path: Path = DEFAULT_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
