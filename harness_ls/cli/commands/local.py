"""Commands that need no daemon: init, spec new/prompt, diff, revert, checkpoints gc, context.

They call the core directly in this process (the same functions the daemon uses), so they work
from any directory through the `bin/` wrappers even when nothing is running.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError
from harness_ls.cli.render import problem_lines
from harness_ls.cli.workspace import spec_arg, workspace_arg
from harness_ls.errors import HarnessError


def _dir(raw: str | None) -> Path:
    return workspace_arg(raw)


def _rel(path: str | Path) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def init(app: Any) -> int:
    from harness_ls.core.local import init_workspace

    a = app.args
    ws = _dir(a.workspace)
    report = init_workspace(
        ws, app.data_dir, force=a.force, dry_run=a.dry_run, with_schema=a.with_schema
    )
    if app.json:
        app.emit_json(report.model_dump(mode="json"))
        return ex.OK
    app.out(report.summary())
    if not a.dry_run:
        app.note(
            'next: agentctl spec new <name>   (or: agentctl spec prompt --prompt "..." <name>)'
        )
    return ex.OK


def spec_new(app: Any) -> int:
    from harness_ls.core import Harness

    a = app.args
    path = Harness(app.data_dir).new_spec(str(_dir(a.workspace)), a.name)
    if app.json:
        app.emit_json({"path": str(path), "name": a.name})
    else:
        app.out(f"{app.style.ok} created {_rel(path)}")
        app.note(f"edit it, then: agentctl run --workspace . --spec {_rel(path)}")
    return ex.OK


def _prompt_text(a: Any) -> str:
    if a.prompt is not None and a.prompt_file is not None:
        raise CliError(
            "give either --prompt or --prompt-file, not both", exit_code=ex.USAGE,
            hint='e.g. --prompt "Add a /health endpoint" or --prompt-file idea.txt',
        )  # fmt: skip
    if a.prompt_file is not None:
        if a.prompt_file == "-":
            return sys.stdin.read()
        try:
            return Path(a.prompt_file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise CliError(
                f"cannot read --prompt-file {a.prompt_file}: {reason}", exit_code=ex.USAGE
            ) from None
    if a.prompt is None:
        raise CliError("--prompt or --prompt-file is required", exit_code=ex.USAGE,
                       hint='e.g. agentctl spec prompt --prompt "Add a /health endpoint" health')  # fmt: skip
    return a.prompt


def spec_prompt(app: Any) -> int:
    import asyncio

    from harness_ls.core import Harness

    a = app.args
    text = _prompt_text(a)
    if not text.strip():
        raise CliError("the prompt is empty", exit_code=ex.USAGE,
                       hint="describe the change you want in a sentence or two")  # fmt: skip
    ws = _dir(a.workspace)
    app.load_env(models=True)
    if not app.json:
        app.note("writing the spec…")
    harness = Harness(app.data_dir, model=a.model)
    try:
        result = asyncio.run(
            harness.spec_from_prompt(str(ws), a.name, text, overwrite=a.overwrite, model=a.model)
        )
    except HarnessError as exc:  # e.g. the model kept answering invalid specs: show why
        err = ex.from_harness(exc)
        err.lines = problem_lines("draft", exc.details)
        raise err from None
    data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
    if app.json:
        app.emit_json(data)
        return ex.OK
    rel = _rel(data.get("path", ""))
    if data.get("offline"):
        app.out(f"{app.style.warn} {data.get('message', '')}")
    else:
        app.out(f"{app.style.ok} {data.get('message', f'wrote {rel}')}"
                + app.style.dim(f"  (model {data.get('model')}, attempt {data.get('attempts')})"))  # fmt: skip
        for p in data.get("problems") or []:
            start = (p.get("range") or {}).get("start") or {}
            app.out(f"  {rel}:{start.get('line', 0) + 1}:{start.get('character', 0) + 1}: "
                    f"{p.get('severity')} {p.get('code')} {p.get('message')}")  # fmt: skip
    app.note(f"review it, then: agentctl run --workspace . --spec {rel}")
    return ex.OK


def _kind(owner_id: str) -> str:
    from harness_ls.core.changes import kind_of

    return kind_of(owner_id)


def _run_log(
    app: Any, run_id: str, explicit: str | None, step: int | None = None
) -> tuple[Path, list[Any]]:
    """The run's (or chat session's) workspace (or --workspace) and its events, read from the
    local data dir."""
    from harness_ls.core import changes
    from harness_ls.errors import InvalidInput, NotFound

    kind = _kind(run_id)
    store = changes.store_of(app.data_dir)
    try:
        meta = changes.log_meta(store, run_id)
    except (NotFound, InvalidInput):
        raise CliError(f"no {kind} '{run_id}'", exit_code=ex.NOT_FOUND,
                       hint=f"list them with `agentctl {'session list' if kind == 'session' else 'runs'}`; diff and revert read the {kind}'s log "
                       f"in the data dir {app.data_dir} (set HARNESS_DATA_DIR or --data-dir)") from None  # fmt: skip
    if kind == "session" and step is not None:
        raise CliError("a chat session has no plan steps, so --step does not apply to it",
                       exit_code=ex.USAGE, hint=f"drop --step: agentctl diff {run_id}")  # fmt: skip
    ws = _dir(explicit) if explicit else Path(meta.workspace)
    if not ws.is_dir():
        raise CliError(f"the {kind}'s workspace {ws} is gone", exit_code=ex.USAGE,
                       hint="pass --workspace with where the work tree is now")  # fmt: skip
    return ws, changes.log_events(store, run_id)


def _refuse_live_run(app: Any, run_id: str, dry_run: bool) -> None:
    """A run still writing would race the revert: ask to cancel it first (core.changes decides
    what is live)."""
    from harness_ls.core import changes

    status = None if dry_run else changes.live_status(changes.store_of(app.data_dir), run_id)
    if status is None:
        return
    if _kind(run_id) == "session":
        raise CliError(f"session {run_id} has a turn running; not reverting under it",
                       exit_code=ex.CONFLICT,
                       hint=f"wait for the turn (agentctl attach {run_id}) or cancel it, then revert")  # fmt: skip
    raise CliError(f"run {run_id} is still {status.replace('_', ' ')}; not reverting under it",
                   exit_code=ex.CONFLICT, hint=f"agentctl cancel {run_id}, then revert")  # fmt: skip


def diff(app: Any) -> int:
    """Per call with checkpoints; the whole-run diff (`diff`, `source`) is the one the daemon's
    /v1/runs/{id}/diff gives, and is what a run without checkpoints shows."""
    from harness_ls.core import changes

    a = app.args
    ws, events = _run_log(app, a.run_id, a.workspace, a.step)
    call = getattr(a, "call", None)
    result = changes.call_diffs(app.data_dir, ws, a.run_id, events, a.step, stat=a.stat, call=call)
    if app.json:
        whole = changes.agent_diff(app.data_dir, a.run_id, ws, events)
        app.emit_json({**result.model_dump(mode="json"), "workspace": str(ws),
                       "diff": whole.diff, "source": whole.source})  # fmt: skip
        return ex.OK
    if not changes.has_checkpoints(events) and a.step is None and call is None:
        text = changes.events_diff(events)  # no checkpoints: the diff the daemon shows too
        if text.strip():
            app.out(app.style.diff(text.rstrip("\n")))
            return ex.OK
    what = f"{_kind(a.run_id)} {a.run_id}" + (f" step {a.step}" if a.step is not None else "")
    what += f" call {call}" if call else ""
    if not any(c.paths for c in result.calls):
        app.note(f"the agent changed no files in {what}")
    text = result.render(stat=a.stat)
    if text.strip():
        app.out(app.style.diff(text.rstrip("\n")))
    return ex.OK


def revert(app: Any) -> int:
    from harness_ls.core import changes

    a = app.args
    ws, events = _run_log(app, a.run_id, a.workspace, a.step)
    _refuse_live_run(app, a.run_id, a.dry_run)
    report = changes.revert_changes(
        app.data_dir, ws, a.run_id, events, a.step, force=a.force, dry_run=a.dry_run,
        call=getattr(a, "call", None),
    )  # fmt: skip
    if app.json:
        app.emit_json(report.model_dump(mode="json"))
    else:
        app.out(report.summary())
    return ex.OK if report.ok else ex.CONFLICT


def checkpoints_gc(app: Any) -> int:
    from harness_ls.core import changes

    a = app.args
    ws = _dir(a.workspace)
    report = changes.gc_checkpoints(app.data_dir, ws, a.older_than, dry_run=a.dry_run)
    if app.json:
        app.emit_json(report.model_dump(mode="json"))
        return ex.OK
    verb = "would remove" if report.dry_run else "removed"
    app.out(f"{app.style.ok} {verb} {report.removed_refs} ref(s) of {len(report.removed_runs)} run(s); "
            f"kept {len(report.kept_runs)}"
            + ("; pruned the shadow repository's unreachable objects" if report.pruned else ""))  # fmt: skip
    for rid in report.removed_runs:
        app.out(f"  {verb} {rid}")
    return ex.OK


def _explain_text(result: Any) -> str:
    """One line per file shown: rank, where it is shown, and each feature's contribution."""
    lines = ["rank  shown    file  <-  feature contributions (weight x value)"]
    for n, (rel, parts) in enumerate(result.explain.items(), start=1):
        where = "excerpt" if rel in result.excerpt_files else "map"
        why = ", ".join(f"{k} {v:+.2f}" for k, v in parts) or "no task evidence (central file)"
        lines.append(f"{n:>4}  {where:<7}  {rel}  <-  {why}")
    return "\n".join(lines)


def _localize(app: Any, ws: Path, task: str, exclude: list[str]) -> dict[str, Any]:
    """`--localize`: the run's localization pass here (core.context), as its event data;
    without a model, or with a map too small to choose from, a note and the plain ranking."""
    import asyncio

    from harness_ls.core.context import localize_files

    app.load_env(models=True)
    data = asyncio.run(localize_files(ws, task, app.data_dir, exclude, app.args.model))
    if not app.json:
        picked = ", ".join(data["picked"])
        app.note(f"localized by {data.get('model')}: {picked}" if picked else data["note"])
        if picked and data.get("note"):
            app.note(data["note"])
    return data


def context(app: Any) -> int:
    from harness_ls.core.context import build_context

    a = app.args
    ws = _dir(a.workspace)
    if a.spec and a.task:
        raise CliError("give either --spec or --task, not both", exit_code=ex.USAGE)
    task, exclude = a.task or "", []
    if a.spec:
        from harness_ls.core.inputs import read_spec

        # read as a run reads its spec (`--localize` sends it to the model): a regular file of at
        # most 1 MiB inside the workspace, no secret file (a cloned repo's spec -> ../../.env)
        rel, task = read_spec(ws.resolve(), spec_arg(a.spec, ws))
        if rel != "<inline>":
            exclude.append(rel)  # the agent has its spec: never show it again
    explain = bool(getattr(a, "explain", False))
    loc = _localize(app, ws, task, exclude) if getattr(a, "localize", False) else None
    prefer = (loc or {}).get("picked") or None
    result = build_context(ws, task, a.budget, data_dir=app.data_dir, exclude=exclude,
                           explain=explain, prefer=prefer)  # fmt: skip
    if app.json:
        doc = {**result.model_dump(mode="json"), "text": result.text}
        app.emit_json(doc if loc is None else {**doc, "localized": loc})
        return ex.OK
    if explain:
        app.out(_explain_text(result))
        return ex.OK
    app.out(result.text)
    app.note(f"{result.tokens}/{result.budget_tokens} tokens ({result.tokenizer}), "
             f"{len(result.files)} file(s) in the map")  # fmt: skip
    return ex.OK
