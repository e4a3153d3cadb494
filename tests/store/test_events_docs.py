"""docs/events.md documents every registered type (and each data field); the JSON Schema is current."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness_ls.store import EVENT_TYPES, TERMINAL_RUN_EVENTS, RunStore
from harness_ls.store.schema import DEFAULT_PATH, render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def sections() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^#### `([^`]+)`\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_registered_type_is_documented_with_its_fields() -> None:
    docs = sections()
    missing = sorted(set(EVENT_TYPES) - set(docs))
    assert not missing, f"document these event types in docs/events.md: {missing}"
    for name, et in EVENT_TYPES.items():
        for field in et.model.model_fields:
            assert f"`{field}`" in docs[name], f"docs/events.md: {name} lacks field `{field}`"
        if not et.durable:
            assert "Chatty" in docs[name], f"docs/events.md: say that {name} is chatty"
    for name in TERMINAL_RUN_EVENTS:
        assert "Terminal" in docs[name]


def test_docs_describe_no_unknown_types() -> None:
    assert sorted(set(sections()) - set(EVENT_TYPES)) == []


def test_committed_json_schema_is_current() -> None:
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(), (
        "docs/events.schema.json is stale: run `python -m harness_ls.store.schema`"
    )


async def test_real_events_validate_against_the_schema(tmp_path: Path) -> None:
    import jsonschema  # dev extra

    schema = json.loads(DEFAULT_PATH.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    store = RunStore(tmp_path)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    await s.append("tool.call", {"name": "shell", "arguments": {"command": "ls"}}, step_id="s1")
    await s.append("approval.resolved", {"decision": "approve", "surface": "http"}, step_id="s1")
    await s.append("message.delta", {"text": "hi", "extra_field": 1})
    await s.close()
    for line in s.path.read_text().splitlines():
        validator.validate(json.loads(line))
    bad = json.loads(s.path.read_text().splitlines()[1])
    bad["data"].pop("name")
    assert not validator.is_valid(bad)  # tool.call without its required name
