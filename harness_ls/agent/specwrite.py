"""Writing specs safely: validate, let the model repair (bounded), replace the file atomically.

Used by spec-mode sessions (the `write_spec` tool, the only way the agent changes the spec) and by
`spec_from_prompt`. A spec on disk is only ever replaced by a valid one; if the spec is open in an
editor through harness-ls, `Harness.spec_write_hook` applies the change to the buffer instead of
racing it on disk.
"""

from __future__ import annotations

import asyncio
import re
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from harness_ls.agent.loop import LoopStopped
from harness_ls.errors import HarnessError, Refused

MAX_INVALID_SPECS = 3  # invalid write_spec calls per turn before the turn stops
_FENCED = re.compile(r"^\s*```(?:markdown|md)?\s*\n(.*?)\n```\s*$", re.S)


class InvalidSpecLimit(LoopStopped):
    code = "invalid_spec"
    status = 502


def strip_fence(text: str) -> str:
    """A model's spec answer without a wrapping ```markdown fence."""
    m = _FENCED.match(text)
    return (m.group(1) if m else text).strip() + "\n"


def spec_problems(text: str, workspace: Path | None) -> tuple[list[Any], list[Any]]:
    """(errors, all problems) for a spec text, with the workspace's schema when it has one."""
    from harness_ls.spec import validate

    schema = None
    if workspace is not None:
        try:
            from harness_ls.spec import load_schema

            schema = load_schema(workspace)
        except (ImportError, HarnessError):
            schema = None
    problems = validate(text, schema) if schema is not None else validate(text)
    return [p for p in problems if str(p.severity) == "error"], problems


def describe(problems: list[Any]) -> str:
    return "\n".join(f"- line {p.range.start.line + 1}: [{p.code}] {p.message}" for p in problems)


def problems_json(problems: list[Any]) -> list[dict[str, Any]]:
    from harness_ls.common import problem_dict

    return [problem_dict(p) for p in problems]


async def replace_spec(harness: Any, path: Path, text: str, root: Path | None = None) -> str:
    """Apply through the editor when it has the file open, else atomically on disk. When the
    editor has it open but refuses the change (the user typed meanwhile: the buffer's version
    moved), nothing is written: a disk write under an open buffer would race the user's save."""
    hook = getattr(harness, "spec_write_hook", None)
    if hook is not None:
        try:
            applied = await hook(path, text)
        except Exception:  # noqa: BLE001 - the editor is gone or broken: the disk write
            applied = None
        if applied:
            return "editor"
        if applied is False:
            raise Refused(
                "the editor has the spec open and did not apply the change (it was being edited "
                "there); nothing was written",
                hint="the spec stays as it is in the editor; ask again once it is saved",
            )
    from harness_ls.common import write_atomic

    await asyncio.to_thread(partial(write_atomic, path, text, root=root))
    return "disk"


class WriteSpecArgs(BaseModel):
    content: str = Field(description="The complete new spec (markdown), not a diff.")


class WriteSpecTool:
    """The spec-mode tool: validate, then write atomically; invalid output goes back to the model."""

    name: ClassVar[str] = "write_spec"
    description: ClassVar[str] = (
        "Replace the session's spec with the complete new markdown text. It is validated first; "
        "if it has problems nothing is written and you get the problems to fix."
    )
    kind: ClassVar[str] = "write"
    Args: ClassVar[type[BaseModel]] = WriteSpecArgs

    def __init__(self, harness: Any, stream: Any, workspace: Path, spec_path: Path) -> None:
        self.harness = harness
        self.stream = stream
        self.workspace = workspace
        self.spec_path = spec_path
        self.invalid = 0

    def preview(self, ctx: Any, args: Any) -> Any:
        from harness_ls.tools import ActionPreview

        rel = self.spec_path.relative_to(self.workspace).as_posix()
        return ActionPreview(kind="write", summary=f"rewrite {rel}", path=rel)

    async def run(self, ctx: Any, args: Any) -> Any:
        from harness_ls.tools import ToolResult

        text = strip_fence(args.content)
        errors, problems = spec_problems(text, self.workspace)
        await self.stream.append(
            "spec.validated",
            {"ok": not errors, "problems": problems_json(problems), "path": str(self.spec_path)},
        )
        if errors:
            self.invalid += 1
            if self.invalid >= MAX_INVALID_SPECS:
                raise InvalidSpecLimit(
                    f"the model produced an invalid spec {self.invalid} times; the spec on disk is unchanged",
                    hint="edit the spec yourself or rephrase the request",
                    details=problems_json(errors),
                )
            return ToolResult(
                ok=False,
                output=f"The spec was NOT written: it has {len(errors)} problem(s). Fix them and call "
                f"write_spec again with the complete spec:\n{describe(errors)}",
                error_code="invalid_spec",
            )
        from harness_ls.agent.specfile import session_spec_rel

        rel = self.spec_path.relative_to(self.workspace).as_posix()
        try:  # again right before the write: a link may have replaced the file or a folder
            session_spec_rel(self.workspace, rel)
        except HarnessError as exc:
            return ToolResult(ok=False, output=f"The spec was NOT written: {exc.one_line()}",
                              error_code=exc.code)  # fmt: skip
        try:
            where = await replace_spec(self.harness, self.spec_path, text, self.workspace)
        except (OSError, HarnessError) as exc:  # a folder became a link after the check
            why = exc.one_line() if isinstance(exc, HarnessError) else str(exc)
            return ToolResult(ok=False, output=f"The spec was NOT written: {why}",
                              error_code="refused")  # fmt: skip
        await self.stream.append(
            "spec.written",
            {"path": str(self.spec_path), "bytes": len(text.encode()), "via": where, "text": text},
        )
        warn = f"\nRemaining warnings:\n{describe(problems)}" if problems else ""
        return ToolResult(ok=True, output=f"Spec written ({len(text)} characters).{warn}")


SPEC_MODE_TOOLS = ("read_file", "list_dir", "search", "git_diff")  # plus write_spec


class SpecModePolicy:
    """The workspace policy, except that the spec-writing tool is the point of the session."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def decide(self, tool: str, args: Any) -> Any:
        if tool == "write_spec":
            from harness_ls.tools import Decision

            return Decision(action="allow", rule="spec mode: write_spec")
        return self.inner.decide(tool, args)

    def with_session_rule(self, tool: str, pattern: str, action: str) -> None:
        self.inner.with_session_rule(tool, pattern, action)
