"""The "Run acceptance tests" lens: run the spec's acceptance commands now, without an agent.

The user clicked the lens, so the commands run without an approval; a policy rule that denies
shell for a command still wins (the same rule the verify step follows). Progress is reported
per command; the summary goes to a message and each command's output tail to the log.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from harness_ls.lsp.features.runs import spec_name
from harness_ls.spec import acceptance_commands

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer


async def run(ls: HarnessLanguageServer, spec: Path, workspace: Path) -> dict[str, Any]:
    from harness_ls.config import data_dir
    from harness_ls.core.views import Policy, ToolContext, run_one

    uri = ls.open_uri(spec.as_uri())
    text = (
        ls.workspace.get_text_document(uri).source
        if uri is not None
        else spec.read_text(encoding="utf-8")
    )
    tests = acceptance_commands(text)
    name = spec_name(spec)
    if not tests:
        ls.show_message(
            f"{spec.name}: no runnable acceptance tests (list items with `inline code` or fenced shell blocks)",
            t.MessageType.Warning,
        )
        return {"passed": 0, "failed": 0, "results": []}
    ctx = ToolContext(workspace=workspace, data_dir=data_dir())
    policy = Policy.load(workspace, data_dir(), ls.settings.policy_mode)
    token = (
        getattr(ls.protocol, "last_work_done_token", None)
        or f"harness-tests-{uuid.uuid4().hex[:8]}"
    )
    window = ls.client_capabilities.window if ls.client_capabilities else None
    progress = ls.work_done_progress
    show = bool(getattr(ls.protocol, "last_work_done_token", None)) or bool(
        window and window.work_done_progress
    )
    if show and not getattr(ls.protocol, "last_work_done_token", None):
        try:
            await progress.create_async(token)
        except Exception:
            show = False
    if show:
        progress.begin(
            token,
            t.WorkDoneProgressBegin(title=f"acceptance tests: {name}", percentage=0),
        )
    results = []
    for i, test in enumerate(tests):
        if show:
            progress.report(
                token,
                t.WorkDoneProgressReport(
                    message=test.command, percentage=int(100 * i / len(tests))
                ),
            )
        res = await run_one(ctx, policy, test, 600.0)
        results.append(res)
        status = "ok" if res.ok else (res.refused or f"exit {res.exit_code}")
        ls.log_info(
            f"acceptance test line {test.line + 1}: $ {test.command} -> {status}\n{res.output[-2000:]}"
        )
    passed = sum(1 for r in results if r.ok)
    summary = f"{name}: {passed}/{len(results)} acceptance tests passed"
    if show:
        progress.end(token, t.WorkDoneProgressEnd(message=summary))
    failed = [r for r in results if not r.ok]
    detail = "; ".join(f"line {r.line + 1} `{r.command}`" for r in failed[:3])
    ls.show_message(
        summary + (f" — failing: {detail}" if failed else ""),
        t.MessageType.Info if not failed else t.MessageType.Warning,
    )
    return {"passed": passed, "failed": len(failed), "results": [r.model_dump() for r in results]}
