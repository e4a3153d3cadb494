"""`artifacts/summary.md`: what a run did, readable without the dashboard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any


async def changed_files(workspace: Path) -> list[str]:
    """`git status --porcelain` lines for the workspace (empty when git fails)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(workspace),
            "status",
            "--porcelain",
            "--untracked-files=all",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await proc.communicate()
    except OSError:
        return []
    return [line for line in out.decode(errors="replace").splitlines() if line.strip()]


def render_summary(
    *,
    run_id: str,
    spec_path: str,
    outcome: str,
    model: str,
    offline_reason: str | None,
    steps: list[Any],
    verify: list[Any],
    changes: list[str],
    usage: dict[str, int],
    duration_s: float,
    tool_calls: int,
) -> str:
    lines = [f"# Run {run_id}", "", f"- Spec: `{spec_path}`", f"- Outcome: **{outcome}**"]
    if offline_reason:
        lines.append(f"- Model: none configured ({offline_reason}); execute was skipped")
    else:
        lines.append(f"- Model: `{model}`")
    lines += [
        f"- Duration: {duration_s:.1f} s; tool calls: {tool_calls}; tokens in/out: "
        f"{usage.get('input_tokens', 0)}/{usage.get('output_tokens', 0)}",
        "",
        "## Plan",
        "",
    ]
    marks = {"done": "x", "skipped": "-", "failed": "!", "pending": " "}
    lines += [f"- [{marks.get(s.status, ' ')}] {s.title}" for s in steps] or ["(no steps)"]
    lines += ["", "## Acceptance tests", ""]
    if not verify:
        lines.append("No runnable acceptance tests in the spec: nothing was verified.")
    for r in verify:
        status = "pass" if r.ok else ("refused" if r.refused else f"FAIL (exit {r.exit_code})")
        lines.append(f"- `{r.command}` (spec line {r.line + 1}): {status}")
    lines += ["", "## Changed files", ""]
    lines += [f"- `{c}`" for c in changes] or ["No changes in the workspace."]
    if offline_reason:
        lines += [
            "",
            "## Next",
            "",
            "Configure a model to let the agent do the work, e.g. `export OPENAI_API_KEY=...` "
            "(or `HARNESS_MODEL=ollama:qwen2.5-coder`), then run the spec again.",
        ]
    return "\n".join(lines) + "\n"
