"""The spec schema: which sections a spec needs, their aliases and rules.

The built-in schema is the data file `specs-schema/spec.schema.json`; a workspace may extend it
with `.harness/spec.schema.json` (sections with the same `id` replace the built-in ones, new ids
are appended). A broken workspace file never breaks linting: callers get the built-in schema and
a `SchemaError` describing what is wrong.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness_ls.errors import InvalidInput

WORKSPACE_SCHEMA = Path(".harness") / "spec.schema.json"
MAX_SCHEMA_BYTES = 1 << 20
_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class SectionRules:
    non_empty: bool = False
    min_test_items: int = 0


@dataclass(frozen=True, slots=True)
class SectionSpec:
    id: str
    heading: str
    level: int = 1
    required: bool = True
    aliases: tuple[str, ...] = ()
    hover: str = ""
    placeholder: str = ""
    rules: SectionRules = SectionRules()


@dataclass(frozen=True, slots=True)
class OptionalSection:
    heading: str
    hover: str = ""


@dataclass(frozen=True, slots=True)
class SpecSchema:
    """The parsed schema file. Plain dataclasses (not pydantic) keep the LSP cold start small;
    the file format itself is pinned by `spec.schema.meta.json` (checked in tests)."""

    sections: tuple[SectionSpec, ...]
    optional_sections: tuple[OptionalSection, ...] = ()
    allow_unknown_sections: bool = True
    title_heading: bool = False
    version: int = 1
    description: str = ""

    @property
    def required(self) -> list[SectionSpec]:
        return [s for s in self.sections if s.required]


class SchemaError(InvalidInput):
    code = "spec_schema_invalid"


def builtin_schema_path() -> Path:
    """`specs-schema/spec.schema.json`, shipped inside the package as `harness_ls/schema/`."""
    packaged = Path(__file__).resolve().parent.parent / "schema" / "spec.schema.json"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "specs-schema" / "spec.schema.json"


class _Bad(Exception):
    def __init__(self, where: str, msg: str) -> None:
        self.where, self.msg = where, msg


def _take(
    obj: Any,
    where: str,
    allowed: dict[str, type | tuple[type, ...]],
    required: tuple[str, ...] = (),
) -> dict:
    if not isinstance(obj, dict):
        raise _Bad(where or "(top level)", "must be an object")
    for key in required:
        if key not in obj:
            raise _Bad(f"{where}.{key}".lstrip("."), "field required")
    for key, value in obj.items():
        if key not in allowed:
            raise _Bad(f"{where}.{key}".lstrip("."), "unknown field")
        want = allowed[key]
        if isinstance(value, bool) and want is int or not isinstance(value, want):
            name = getattr(want, "__name__", None) or "/".join(w.__name__ for w in want)  # type: ignore[union-attr]
            raise _Bad(f"{where}.{key}".lstrip("."), f"must be {name}")
    return obj


def _section(obj: Any, where: str) -> SectionSpec:
    d = _take(
        obj,
        where,
        {
            "id": str,
            "heading": str,
            "level": int,
            "required": bool,
            "aliases": list,
            "hover": str,
            "placeholder": str,
            "rules": dict,
        },
        ("id", "heading"),
    )
    if not _ID.match(d["id"]):
        raise _Bad(f"{where}.id", "must match ^[a-z][a-z0-9_-]*$")
    if not d["heading"].strip():
        raise _Bad(f"{where}.heading", "must not be empty")
    level = d.get("level", 1)
    if not 1 <= level <= 6:
        raise _Bad(f"{where}.level", "must be 1..6")
    aliases = d.get("aliases", [])
    if not all(isinstance(a, str) and a for a in aliases):
        raise _Bad(f"{where}.aliases", "must be non-empty strings")
    r = _take(d.get("rules", {}), f"{where}.rules", {"non_empty": bool, "min_test_items": int})
    return SectionSpec(
        d["id"],
        d["heading"],
        level,
        d.get("required", True),
        tuple(aliases),
        d.get("hover", ""),
        d.get("placeholder", ""),
        SectionRules(r.get("non_empty", False), r.get("min_test_items", 0)),
    )


def _schema(obj: Any) -> SpecSchema:
    d = _take(
        obj,
        "",
        {
            "$schema": str,
            "version": int,
            "description": str,
            "sections": list,
            "optional_sections": list,
            "allow_unknown_sections": bool,
            "title_heading": bool,
        },
        ("version", "sections"),
    )
    if d["version"] != 1:
        raise _Bad("version", "must be 1")
    if not d["sections"]:
        raise _Bad("sections", "must list at least one section")
    sections = tuple(_section(s, f"sections.{i}") for i, s in enumerate(d["sections"]))
    optional = []
    for i, o in enumerate(d.get("optional_sections", [])):
        od = _take(o, f"optional_sections.{i}", {"heading": str, "hover": str}, ("heading",))
        optional.append(OptionalSection(od["heading"], od.get("hover", "")))
    return SpecSchema(
        sections,
        tuple(optional),
        d.get("allow_unknown_sections", True),
        d.get("title_heading", False),
        1,
        d.get("description", ""),
    )


def parse_schema(raw: str | bytes, source: str) -> SpecSchema:
    """Parse and check a schema file's text; SchemaError names the file and the bad field."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(
            f"{source}: not valid JSON ({exc})", hint="fix the JSON syntax or delete the file"
        ) from None
    try:
        return _schema(data)
    except _Bad as bad:
        raise SchemaError(
            f"{source}: {bad.where}: {bad.msg}",
            hint="see specs-schema/spec.schema.meta.json for the allowed fields",
        ) from None


@lru_cache(maxsize=1)
def builtin_schema() -> SpecSchema:
    path = builtin_schema_path()
    return parse_schema(path.read_bytes(), str(path))


def merge(base: SpecSchema, ext: SpecSchema) -> SpecSchema:
    """Workspace sections replace built-in ones by id; new ids are appended in order."""
    by_id = {s.id: s for s in ext.sections}
    sections = [by_id.pop(s.id, s) for s in base.sections] + list(by_id.values())
    optional = {o.heading: o for o in [*base.optional_sections, *ext.optional_sections]}
    return replace(
        base,
        sections=tuple(sections),
        optional_sections=tuple(optional.values()),
        allow_unknown_sections=ext.allow_unknown_sections,
    )


_ws_cache: dict[str, tuple[tuple[int, int], SpecSchema]] = {}


def load_schema(workspace: str | os.PathLike[str] | None = None) -> SpecSchema:
    """The effective schema for a workspace. Raises SchemaError for a broken workspace file."""
    base = builtin_schema()
    if workspace is None:
        return base
    path = Path(workspace) / WORKSPACE_SCHEMA
    try:
        st = path.stat()
    except OSError:
        return base
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SCHEMA_BYTES:
        # a FIFO or /dev/zero from a cloned repository must not hang or exhaust the server
        raise SchemaError(
            f"{path}: not a regular file of at most {MAX_SCHEMA_BYTES >> 20} MiB",
            hint="replace it with the JSON schema extension, or remove it",
        )
    key = (st.st_mtime_ns, st.st_size)
    cached = _ws_cache.get(str(path))
    if cached and cached[0] == key:
        return cached[1]
    schema = merge(base, parse_schema(path.read_bytes(), str(path)))
    _ws_cache[str(path)] = (key, schema)
    return schema
