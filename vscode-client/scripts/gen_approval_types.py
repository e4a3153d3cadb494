"""Write vscode-client/src/approvalProtocol.ts from specs-schema/approval-protocol.schema.json.

The schema is the one contract of the editor's approval protocol; the client's types are derived
from it, never written by hand (tests/lsp/test_approval_protocol.py checks the checked-in file is
what this script writes now). Handles the subset the schema uses: objects, enums, tuples, arrays,
unions of primitive types and local $refs. No dependency beyond Python 3.11.

    python3 vscode-client/scripts/gen_approval_types.py          # rewrite the .ts file
    python3 vscode-client/scripts/gen_approval_types.py --check  # exit 1 when it is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "specs-schema" / "approval-protocol.schema.json"
OUTPUT = ROOT / "vscode-client" / "src" / "approvalProtocol.ts"
PRIMITIVES = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}
PRIMITIVES["null"] = "null"


def ts_type(node: dict[str, Any]) -> str:
    """The TypeScript type of one schema node."""
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return " | ".join(json.dumps(v) for v in node["enum"])
    kind = node.get("type")
    if isinstance(kind, list):
        return " | ".join(PRIMITIVES[k] for k in kind)
    if kind == "array":
        if "prefixItems" in node:
            return "[" + ", ".join(ts_type(item) for item in node["prefixItems"]) + "]"
        inner = ts_type(node.get("items", {}))
        return f"({inner})[]" if " " in inner else f"{inner}[]"
    if kind == "object":
        return "Record<string, unknown>"
    return PRIMITIVES.get(kind, "unknown")


def _doc(text: str | None, indent: str = "") -> list[str]:
    return [f"{indent}/** {text} */"] if text else []


def declaration(name: str, node: dict[str, Any]) -> list[str]:
    """An interface for an object with properties, else a type alias."""
    lines = _doc(node.get("description"))
    props = node.get("properties")
    if node.get("type") != "object" or not props:
        return [*lines, f"export type {name} = {ts_type(node)};"]
    required = set(node.get("required", []))
    lines.append(f"export interface {name} {{")
    for key, prop in props.items():
        lines += _doc(prop.get("description"), "  ")
        optional = "" if key in required else "?"
        lines.append(f"  {key}{optional}: {ts_type(prop)};")
    lines.append("}")
    return lines


def render(schema: dict[str, Any]) -> str:
    out = [
        "// Generated from specs-schema/approval-protocol.schema.json by",
        "// vscode-client/scripts/gen_approval_types.py: do not edit by hand.",
        "",
    ]
    for name, node in schema["$defs"].items():
        out += [*declaration(name, node), ""]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = render(json.loads(SCHEMA.read_text(encoding="utf-8")))
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
