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
        from harness_ls.tools.consent import shell_view

        return f"shell: {shell_view(str(args.get('command', ''))).title}"
    if args.get("path"):
        from harness_ls.tools.reveal import reveal

        return f"{name} {reveal(str(args['path']))}"
    if "__" in name:  # an MCP tool: server__tool
        server, _, tool = name.partition("__")
        return f"mcp:{server}.{tool}"
    return name


def plan_entries(steps: list[dict[str, Any]]) -> list[Any]:
    from acp import plan_entry

    return [
        plan_entry(
            str(s.get("title") or "step"),
            status=_STEP_STATUS.get(str(s.get("status") or ""), "pending"),  # type: ignore[arg-type]
        )
        for s in steps
    ]


class Translator:
    """Keeps what later events need (the plan's steps, tool call names) and maps each event to
    the ACP updates that show it."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.step_ids: dict[str, int] = {}  # step_id -> index in steps, by title order
        self.calls: dict[str, str] = {}  # call_id -> tool name

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
        if t == "approval.resolved" and cid and d.get("decision") == "approve":
            return [update_tool_call(cid, status="in_progress")]
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
