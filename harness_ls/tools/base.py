"""The tool interface every tool implements, and the helpers the runtime calls around it.

A tool has a pydantic `Args` model (shown to models as JSON Schema), a `kind` the policy gates on
("read" | "write" | "shell"), `run()` that never raises for expected failures (refusals, bad
arguments, missing files become `ToolResult(ok=False, error_code=...)` so they end up as events and
as an error the model can read), and `preview()` that says what an approval would show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from harness_ls.errors import HarnessError, InvalidInput

Kind = Literal["read", "write", "shell", "mcp"]  # mcp: a tool of a user-configured MCP server


@dataclass
class ToolContext:
    """Where and how tools run. `env` replaces os.environ as the shell's base environment."""

    workspace: Path
    data_dir: Path | None = None
    shell_timeout: float = 120.0
    env: dict[str, str] | None = None
    output_cap: int = 30_000  # characters a tool returns to the model before cutting the middle
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workspace = Path(os.path.realpath(self.workspace))

    def secret_patterns(self) -> tuple[str, ...]:
        """The user's extra secret-file patterns (from the sandbox settings, when loaded)."""
        return tuple(getattr(self.extra.get("sandbox"), "secret_files", ()))

    def may_read_secret(self, rel: str) -> bool:
        """Whether this call was approved for the secret file `rel`, or a rule of the user's
        allows reading it (`extra["reveal"]` and `extra["unmask"]`, set by the agent loop)."""
        if rel in self.extra.get("reveal", ()):
            return True
        unmask = self.extra.get("unmask")
        return bool(unmask and unmask(rel))

    def with_reveal(self, paths: list[str] | tuple[str, ...]) -> ToolContext:
        """This context for one call approved for the secret files `paths`."""
        if not paths:
            return self
        return replace(self, extra={**self.extra, "reveal": frozenset(paths)})


class ToolResult(BaseModel):
    ok: bool
    output: str
    data: dict[str, Any] = {}
    error_code: str | None = None


class LineRange(BaseModel):
    """1-based, inclusive line numbers in the file *as it is now* (before the change)."""

    start_line: int
    end_line: int


class ActionPreview(BaseModel):
    """What an approval shows: the command for shell; path + unified diff + touched lines for writes."""

    kind: Kind
    summary: str
    path: str | None = None  # workspace-relative, posix
    diff: str | None = None
    command: str | None = None
    range: LineRange | None = None


class ToolArgs(BaseModel):
    """Base for argument models: unknown fields are an error the model sees, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Tool:
    name: ClassVar[str]
    description: ClassVar[str]
    kind: ClassVar[Kind]
    Args: ClassVar[type[BaseModel]]
    scans_secrets: ClassVar[bool] = False  # True: _run looks at the secret-file scan itself

    async def run(self, ctx: ToolContext, args: BaseModel | dict[str, Any]) -> ToolResult:
        """Run the tool; expected failures (refused, invalid args, not found...) are results."""
        try:
            parsed = args if isinstance(args, self.Args) else parse_args(self, _as_dict(args))
            if not self.scans_secrets:
                register_workspace_secrets(ctx)
            return await self._run(ctx, parsed)
        except HarnessError as exc:
            return error_result(exc)
        except OSError as exc:
            return error_result(os_error(exc, ctx))

    def preview(self, ctx: ToolContext, args: BaseModel | dict[str, Any]) -> ActionPreview:
        """What an approval shows. Raises Refused (containment) or InvalidInput (the action cannot
        apply, e.g. an edit whose `old` text is not in the file): report those to the model as a
        tool error instead of asking anyone."""
        parsed = args if isinstance(args, self.Args) else parse_args(self, _as_dict(args))
        register_workspace_secrets(ctx)  # a preview (a diff of .env) is an event too
        try:
            return self._preview(ctx, parsed)
        except OSError as exc:
            raise os_error(exc, ctx) from None

    async def _run(self, ctx: ToolContext, args: Any) -> ToolResult:  # pragma: no cover
        raise NotImplementedError

    def _preview(self, ctx: ToolContext, args: Any) -> ActionPreview:
        """Reads only need a preview when a rule makes them ask: name the path they touch."""
        from harness_ls.tools.paths import rel_posix, resolve_path

        raw = getattr(args, "path", None)
        shown = (
            rel_posix(ctx.workspace, resolve_path(ctx.workspace, raw, for_write=False))
            if raw
            else None
        )
        return ActionPreview(kind=self.kind, summary=f"{self.name} {_short(args)}", path=shown)

    def spec(self) -> dict[str, Any]:
        schema = self.Args.model_json_schema()
        schema.pop("title", None)
        return {"name": self.name, "description": self.description, "parameters": schema}


def register_workspace_secrets(ctx: ToolContext) -> None:
    """Mask the values of the workspace's secret files from now on (a cached scan; whatever a
    tool shows — a diff, an MCP answer, a preview — is masked before it is logged)."""
    from harness_ls.tools.wsscan import scan

    try:
        scan(ctx.workspace, ctx.secret_patterns())
    except OSError:
        pass


def _as_dict(args: Any) -> dict[str, Any]:
    if isinstance(args, BaseModel):
        return args.model_dump()
    return args


def _short(args: BaseModel) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in args.model_dump().items())
    return text if len(text) < 200 else text[:197] + "..."


def os_error(exc: OSError, ctx: ToolContext) -> InvalidInput:
    """A filesystem failure (permissions, a file where a directory is needed...) as a clear error."""
    name = exc.filename
    if name is not None:
        name = str(name)
        root = str(ctx.workspace) + os.sep
        name = name[len(root) :] if name.startswith(root) else name
    what = exc.strerror or type(exc).__name__
    msg = f"{what}: {name}" if name else what
    err = InvalidInput(msg, hint="check the path and its permissions")
    err.code = "os_error"
    return err


def error_result(exc: HarnessError) -> ToolResult:
    """A typed error as the result the model reads (message + what to do)."""
    code = "invalid_args" if exc.code == "invalid_input" and _is_arg_error(exc) else exc.code
    data: dict[str, Any] = {}
    if exc.details is not None:
        data["details"] = exc.details
    return ToolResult(ok=False, output=exc.one_line(), data=data, error_code=code)


def _is_arg_error(exc: HarnessError) -> bool:
    return isinstance(exc.details, dict) and "fields" in exc.details


def parse_args(tool: Tool, raw: dict[str, Any] | None) -> BaseModel:
    """Validate model-supplied arguments; InvalidInput names every bad field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput(
            f"arguments for {tool.name} must be a JSON object, got {type(raw).__name__}",
            hint=f"call {tool.name} with an object matching its parameters schema",
            details={"fields": []},
        )
    try:
        return tool.Args.model_validate(raw)
    except ValidationError as exc:
        fields = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            fields.append({"field": loc, "message": msg})
        listed = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        allowed = ", ".join(tool.Args.model_fields)
        raise InvalidInput(
            f"invalid arguments for {tool.name}: {listed}",
            hint=f"parameters are: {allowed}",
            details={"fields": fields},
        ) from None


def cut_middle(text: str, cap: int) -> tuple[str, int]:
    """Keep the head and tail of `text` within `cap` chars, at line ends when one is near;
    returns (text, chars cut)."""
    if len(text) <= cap:
        return text, 0
    half = cap // 2
    head, tail = text[:half], text[-half:]
    nl = head.rfind("\n")
    if nl >= half * 4 // 5:
        head = head[: nl + 1]
    nl = tail.find("\n")
    if 0 <= nl <= half // 5:
        tail = tail[nl + 1 :]
    cut = len(text) - len(head) - len(tail)
    return f"{head.rstrip(chr(10))}\n[... {cut} characters cut ...]\n{tail}", cut
