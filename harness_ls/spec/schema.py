"""The spec schema: which sections a spec needs, their aliases and rules.

The built-in schema is the data file `specs-schema/spec.schema.json`; a workspace may extend it
with `.harness/spec.schema.json` (sections with the same `id` replace the built-in ones, new ids
are appended). A broken workspace file never breaks linting: callers get the built-in schema and
a `SchemaError` describing what is wrong.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness_ls.errors import InvalidInput

WORKSPACE_SCHEMA = Path(".harness") / "spec.schema.json"


class SectionRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    non_empty: bool = False
    min_test_items: int = 0


class SectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    heading: str = Field(min_length=1)
    level: int = Field(default=1, ge=1, le=6)
    required: bool = True
    aliases: list[str] = []
    hover: str = ""
    placeholder: str = ""
    rules: SectionRules = SectionRules()


class OptionalSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    heading: str = Field(min_length=1)
    hover: str = ""


class SpecSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_ref: str | None = Field(default=None, alias="$schema")
    version: int = 1
    description: str = ""
    sections: list[SectionSpec] = Field(min_length=1)
    optional_sections: list[OptionalSection] = []
    allow_unknown_sections: bool = True
    title_heading: bool = False

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


def parse_schema(raw: str | bytes, source: str) -> SpecSchema:
    """Parse and check a schema file's text; SchemaError names the file and the bad field."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(
            f"{source}: not valid JSON ({exc})", hint="fix the JSON syntax or delete the file"
        ) from None
    try:
        return SpecSchema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SchemaError(
            f"{source}: {where}: {first['msg']}",
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
    return base.model_copy(
        update={
            "sections": sections,
            "optional_sections": list(optional.values()),
            "allow_unknown_sections": ext.allow_unknown_sections,
        }
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
    key = (st.st_mtime_ns, st.st_size)
    cached = _ws_cache.get(str(path))
    if cached and cached[0] == key:
        return cached[1]
    schema = merge(base, parse_schema(path.read_bytes(), str(path)))
    _ws_cache[str(path)] = (key, schema)
    return schema
