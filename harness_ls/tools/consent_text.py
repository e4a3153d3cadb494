"""The approval view as plain lines: the one text rendering the CLI (with colours) and the editor
(diagnostic message, hover, showMessageRequest) share, so both show the same parts and flags.

Lines come as (style, text): the CLI paints by style, the editor joins the texts. Every text is
already revealed by `tools.consent`, so no control character reaches a terminal or an editor.
"""

from __future__ import annotations

from typing import Any

from harness_ls.tools.consent import ApprovalView, view_of
from harness_ls.tools.reveal import reveal

Line = tuple[
    str, str
]  # (style, text); styles: counts danger warn warning label part body add del hunk


def as_view(approval_or_view: Any, workspace: str | None = None) -> ApprovalView:
    """An ApprovalView from a view, its JSON, or anything carrying `view`/`preview` (old events)."""
    obj = approval_or_view
    if isinstance(obj, ApprovalView):
        return obj
    get = obj.get if isinstance(obj, dict) else lambda k: getattr(obj, k, None)
    if isinstance(obj, dict) and "title" in obj and "kind" in obj:
        return ApprovalView.model_validate(obj)
    view = get("view")
    if isinstance(view, ApprovalView):
        return view
    if isinstance(view, dict):
        return ApprovalView.model_validate(view)
    return view_of(get("preview") or {}, workspace or get("workspace"))


def text_lines(view: ApprovalView, *, max_body_lines: int | None = None) -> list[Line]:
    """Counts, flags in words, the hidden-character warning, one line per command, then the body.

    Only the body may be cut (for a diagnostic); the list of commands never is."""
    out: list[Line] = []
    if view.counts:
        out.append(("counts", view.counts))
    for f in view.flags:
        detail = f": {f.detail}" if f.detail else ""
        out.append((f.level, f"[{f.level}] {f.label}{detail}"))
    if view.warning:
        out.append(("warning", f"WARNING: {view.warning}"))
    if view.kind == "shell" and view.parts:
        out.append(("label", "commands:"))
        n = 0
        for p in view.parts:
            if p.context:
                out.append(("part", f"     ↳ in {p.context}: {p.text}"))
                continue
            n += 1
            out.append(("part", f"  {n}. {p.text}{' ' + p.joiner if p.joiner else ''}"))
    if view.body:
        label = {"shell": "will run:", "mcp": "will call:"}.get(view.kind, "change:")
        out.append(("label", label))
        body = view.body.split("\n")
        if view.kind != "shell" and body and body[-1] == "":
            body.pop()
        shown = body if max_body_lines is None else body[:max_body_lines]
        for i, line in enumerate(shown):
            if view.kind == "shell":
                out.append(("body", f"  {'$ ' if i == 0 else '  '}{line}"))
            else:
                out.append((_diff_style(line) if view.kind == "write" else "body", f"  {line}"))
        if len(shown) < len(body):
            more = len(body) - len(shown)
            out.append(("label", f"  … {more} more lines (hover or open the dashboard to see all)"))
    return out


def _diff_style(line: str) -> str:
    if line.startswith("+") and not line.startswith("+++"):
        return "add"
    if line.startswith("-") and not line.startswith("---"):
        return "del"
    return "hunk" if line.startswith("@@") else "body"


def plain(view: ApprovalView, *, max_body_lines: int | None = None) -> str:
    return "\n".join(text for _, text in text_lines(view, max_body_lines=max_body_lines))


def safe(text: Any) -> str:
    """Any other string bound for a terminal or an editor: control characters made visible."""
    return reveal(str(text if text is not None else ""), keep_tabs=True)


_TERMINAL = frozenset({"control", "bidi"})  # what can rewrite or reorder a terminal's display


def visible(obj: Any) -> Any:
    """A JSON-like value (an event) with control and bidi characters in every string revealed.
    Approval views are already fully revealed; this covers model text, tool output, notes."""
    if isinstance(obj, str):
        return reveal(obj, keep_tabs=True, kinds=_TERMINAL)
    if isinstance(obj, dict):
        return {k: visible(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [visible(v) for v in obj]
    return obj
