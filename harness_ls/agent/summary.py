"""`artifacts/summary.md`: what a run did, readable without the dashboard."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from harness_ls.errors import HarnessError
from harness_ls.usage import tokens_text


async def agent_changes(run: Any) -> list[str]:
    """The agent's files ("A path", "M path", "D path") from the run's per-call checkpoints:
    what the user changed during the run is not listed."""

    def build() -> list[str]:
        from harness_ls.workspace import load_changes
        from harness_ls.workspace.changeset import full_events

        changes = load_changes(
            run.harness.data_dir, run.workspace, run.run_id, full_events(run.stream)
        )
        out = []
        for path, chain in sorted(changes.chains(changes.calls).items()):
            first, last = chain[0].before, chain[-1].after
            if first == last and chain[0].before_mode == chain[-1].after_mode:
                continue  # changed and changed back
            out.append(f"{'A' if first is None else 'D' if last is None else 'M'} {path}")
        out += [f"? {p} — ignored by git, not tracked (a shell command wrote it; diff and "
                f"revert do not cover it)" for p in changes.ignored_paths()]  # fmt: skip
        return out

    try:
        return await asyncio.to_thread(build)
    except Exception:  # noqa: BLE001 - a summary without the list beats no summary
        return []


async def changed_files(workspace: Path) -> list[str]:
    """`git status --porcelain` lines for the workspace (empty when git fails or there is no
    repository), through harness_ls.gitrun: the repository's config never runs anything."""
    from harness_ls.gitrun import workspace_git

    try:
        git = await asyncio.to_thread(workspace_git, workspace)
        code, out, _ = await git.arun("status", "--porcelain", "--untracked-files=all", limit_s=120)
    except (OSError, TimeoutError, HarnessError):
        return []
    if code != 0:
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
    usage: dict[str, Any],
    duration_s: float,
    tool_calls: int,
    warnings: list[str] | None = None,
) -> str:
    lines = [f"# Run {run_id}", "", f"- Spec: `{spec_path}`", f"- Outcome: **{outcome}**"]
    if offline_reason:
        lines.append(f"- Model: none configured ({offline_reason}); execute was skipped")
    else:
        lines.append(f"- Model: `{model}`")
    lines += [
        f"- Duration: {duration_s:.1f} s; tool calls: {tool_calls}; "
        f"{tokens_text(usage) or '0→0 tokens'}",
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
    if warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in warnings]
    lines += ["", "## Changed files", ""]
    lines += [
        f"- `{c.split(' — ', 1)[0]}` — {c.split(' — ', 1)[1]}" if " — " in c else f"- `{c}`"
        for c in changes
    ] or ["The agent changed no files."]
    if offline_reason:
        lines += [
            "",
            "## Next",
            "",
            "Configure a model to let the agent do the work, e.g. `export OPENAI_API_KEY=...` "
            "(or `HARNESS_MODEL=ollama:qwen2.5-coder`), then run the spec again.",
        ]
    return "\n".join(lines) + "\n"


async def write_summary(run: Any, outcome: str) -> None:
    """Write `artifacts/summary.md` for a RunEngine and record `artifact.written`."""
    from harness_ls.common import write_atomic

    text = render_summary(
        run_id=run.run_id,
        spec_path=run.spec_path,
        outcome=outcome,
        model=run.resolved.info.id if run.resolved is not None else "",
        offline_reason=run.offline_reason,
        steps=run.steps,
        verify=run.verify_results,
        changes=await agent_changes(run),
        **_books(run),
        warnings=getattr(run, "warnings", None),
    )
    path = run.harness.store.artifacts_dir(run.run_id) / "summary.md"
    await asyncio.to_thread(write_atomic, path, text)
    await run.stream.append(
        "artifact.written",
        {
            "path": "artifacts/summary.md",
            "name": "summary.md",
            "bytes": len(text.encode()),
            "mime": "text/markdown",
        },
    )


def _books(run: Any) -> dict[str, Any]:
    """Usage, duration and tool calls of the whole run (every segment of a resumed one)."""
    totals = run._totals() if hasattr(run, "_totals") else None
    if totals is None:
        return {
            "usage": run.usage.as_dict(),
            "duration_s": time.monotonic() - run.started,
            "tool_calls": run.tool_calls,
        }
    return {
        "usage": totals["usage"],
        "duration_s": totals["duration_ms"] / 1000,
        "tool_calls": totals["tool_calls"],
    }


def failing(results: list[Any]) -> bool:
    """Some acceptance test did not pass."""
    return any(not r.ok for r in results)


def outcome_text(
    results: list[Any], offline_reason: str | None, warnings: list[str] | None = None
) -> str:
    """The run's outcome line: what was verified, offline, or completed with warnings."""
    verified = (
        f"{len(results)} acceptance test(s) passed"
        if results
        else "unverified: no runnable acceptance tests"
    )
    if offline_reason:
        return f"{verified}; execute skipped (no model configured)"
    if warnings:
        return f"{verified}; completed with warnings: {'; '.join(warnings)}"
    return verified
