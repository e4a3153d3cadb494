"""Harness events as ACP session updates: streamed text, tool calls with their status and diffs,
and the run's plan. Pure functions over event dicts (as the HTTP API's SSE delivers them)."""

from __future__ import annotations

from typing import Any

# our tool names -> ACP tool kinds (the editor picks an icon from it)
_KINDS = {
    "read_file": "read",
    "list_dir": "read",
    "search": "search",
    "git_diff": "read",
    "edit": "edit",
    "write_file": "edit",
    "shell": "execute",
}
_STEP_STATUS = {"done": "completed", "completed": "completed", "failed": "completed",
                "skipped": "completed", "running": "in_progress"}  # fmt: skip


def tool_title(name: str, args: dict[str, Any]) -> str:
    if name == "shell":  # every command named, hidden characters revealed, never a prefix
        from harness_ls.core.views import shell_view

        return f"shell: {shell_view(str(args.get('command', ''))).title}"
    if args.get("path"):
        from harness_ls.core.views import reveal

        return f"{name} {reveal(str(args['path']))}"
    if "__" in name:  # an MCP tool: server__tool (the name an MCP server chose)
        server, _, tool = name.partition("__")
        return _shown(f"mcp:{server}.{tool}")
    return _shown(name)


def _shown(text: str) -> str:
    """A model's step title or a tool name as an editor may show it: control and bidi characters
    (and line breaks: a plan entry is one line) made visible, as on every other surface."""
    from harness_ls.core.views import visible

    return str(visible(text)).replace("\n", "⟨LF⟩")


def plan_entries(steps: list[dict[str, Any]]) -> list[Any]:
    from acp import plan_entry

    return [
        plan_entry(
            _shown(str(s.get("title") or "step")),
            status=_STEP_STATUS.get(str(s.get("status") or ""), "pending"),  # type: ignore[arg-type]
        )
        for s in steps
    ]


def approval_call_id(ev: dict[str, Any]) -> str:
    """The tool call an approval is about: a session's approval id is its call id; a run's names
    it in `tool_call_id`; a verify-phase approval has none, so its own id stands for the call."""
    d = ev.get("data") or {}
    return str(ev.get("call_id") or d.get("tool_call_id") or d.get("approval_id") or "")


def _verify_title(command: str) -> str:
    from harness_ls.core.views import shell_view

    return f"acceptance test: {shell_view(command).title}"


class Translator:
    """Keeps what later events need (the plan's steps, tool call names) and maps each event to
    the ACP updates that show it.

    Every permission request refers to a tool call the client has already seen: an approval for
    a call with no `tool.call` event (an acceptance test in the verify phase) starts one first;
    each acceptance test's result completes its call, or shows as a finished call of its own
    when the policy let it run unasked."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.step_ids: dict[str, int] = {}  # step_id -> index in steps, by title order
        self.calls: dict[str, str] = {}  # call_id -> tool name
        self.verify_call: str | None = None  # the acceptance test waiting for its result

    def updates(self, ev: dict[str, Any]) -> list[Any]:
        from acp import (
            start_tool_call,
            text_block,
            tool_content,
            tool_diff_content,
            update_agent_message_text,
            update_plan,
            update_tool_call,
        )

        t, d = ev.get("type"), ev.get("data") or {}
        cid = ev.get("call_id") or ""
        if t == "message.delta" and d.get("text"):
            return [update_agent_message_text(d["text"])]
        if t == "tool.call" and cid:
            name = str(d.get("name") or "tool")
            self.calls[cid] = name
            args = d.get("arguments") or {}
            return [
                start_tool_call(
                    cid,
                    tool_title(name, args),
                    kind=_KINDS.get(name, "other"),  # type: ignore[arg-type]
                    status="pending",
                    raw_input=args,
                )
            ]
        if t == "tool.result" and cid:
            data = d.get("data") or {}
            content: list[Any] = []
            if isinstance(data.get("diff"), str) and data.get("path"):
                content.append(
                    tool_diff_content(str(data["path"]), data.get("new_text") or data["diff"])
                )
            if d.get("output"):
                content.append(tool_content(text_block(str(d["output"]))))
            status = "completed" if d.get("ok") else "failed"
            return [update_tool_call(cid, status=status, content=content or None)]
        if t == "tool.refused" and cid:
            reason = f"Refused: {d.get('reason', '')}"
            return [
                update_tool_call(cid, status="failed", content=[tool_content(text_block(reason))])
            ]
        if t == "approval.requested":
            return self._approval_call(ev)
        if t == "approval.resolved":
            call = approval_call_id(ev)
            if call in self.calls and d.get("decision") == "approve":
                return [update_tool_call(call, status="in_progress")]
            return []
        if t == "verify.result":
            return self._verify_result(ev)
        if t == "plan.updated":
            self.steps = [dict(s) for s in d.get("steps") or []]
            return [update_plan(plan_entries(self.steps))]
        if t in ("step.started", "step.completed", "step.failed") and self.steps:
            title = d.get("title")
            for step in self.steps:
                if step.get("id") == ev.get("step_id") or (title and step.get("title") == title):
                    step["status"] = {"step.started": "running", "step.completed": "done"}.get(
                        t, "failed"
                    )
                    return [update_plan(plan_entries(self.steps))]
        if t in ("run.completed", "run.failed", "run.cancelled", "run.interrupted"):
            text = d.get("outcome") or d.get("error") or d.get("reason") or t
            return [update_agent_message_text(f"\n\n[{t.split('.')[1]}: {text}]")]
        if t == "attachment.skipped" or (t == "log" and d.get("level") in ("warning", "error")):
            return [update_agent_message_text(f"\n[{d.get('message') or d.get('reason')}]\n")]
        return []

    def _approval_call(self, ev: dict[str, Any]) -> list[Any]:
        """A `tool_call` for an approval whose call the client has not seen yet."""
        from acp import start_tool_call

        from harness_ls.core.views import as_view, safe

        d = ev.get("data") or {}
        call = approval_call_id(ev)
        if not call or call in self.calls:
            return []
        tool = str(d.get("tool") or "tool")
        self.calls[call] = tool
        preview = d.get("preview") if isinstance(d.get("preview"), dict) else {}
        if d.get("phase") == "verify":
            self.verify_call = call
            command = str(preview.get("command") or "")
            title, kind, raw = _verify_title(command), "execute", {"command": command}
        else:
            title = as_view(d).title or safe(tool)
            kind, raw = _KINDS.get(tool, "other"), preview or None
        return [start_tool_call(call, title, kind=kind, status="pending", raw_input=raw)]  # type: ignore[arg-type]

    def _verify_result(self, ev: dict[str, Any]) -> list[Any]:
        from acp import start_tool_call, text_block, tool_content, update_tool_call

        d = ev.get("data") or {}
        status = "completed" if d.get("ok") else "failed"
        text = str(d.get("refused") or d.get("output") or "")
        if d.get("exit_code") is not None and not d.get("ok"):
            text = f"exit {d['exit_code']}" + (f"\n{text}" if text else "")
        content = [tool_content(text_block(text))] if text else None
        call, self.verify_call = self.verify_call, None
        if call is not None:
            return [update_tool_call(call, status=status, content=content)]
        command = str(d.get("command") or "")
        call = f"verify_{ev.get('seq') or len(self.calls)}"
        self.calls[call] = "shell"
        start = start_tool_call(call, _verify_title(command), kind="execute", status=status,
                                raw_input={"command": command}, content=content)  # fmt: skip
        return [start]
