"""Run commands (daemon): run, attach, approve, approvals, export, list, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.commands.answers import answer
from harness_ls.cli.errors import CliError
from harness_ls.cli.follow import Detached, follow
from harness_ls.cli.render import problem_lines
from harness_ls.cli.tables import age, table
from harness_ls.cli.workspace import spec_arg, workspace_arg

TERMINAL = frozenset({"run.completed", "run.failed", "run.cancelled", "run.interrupted"})


def _workspace(raw: str | None) -> Path:
    return workspace_arg(raw)


def run(app: Any) -> int:
    a = app.args
    client = app.client()
    ws = _workspace(a.workspace)
    spec = a.spec
    if a.resume and not spec:
        meta = client.get(f"/v1/runs/{a.resume}")
        spec, ws = meta["spec_path"], Path(meta["workspace"])
    if not spec:
        raise CliError("--spec is required", exit_code=ex.USAGE,
                       hint="e.g. agentctl run --workspace . --spec specs/login/spec.md")  # fmt: skip
    if spec != "<inline>" and not a.resume:
        spec = spec_arg(spec, ws)
    path = Path(spec).expanduser()
    full = path if path.is_absolute() else ws / path
    if spec != "<inline>" and not full.is_file():
        raise CliError(
            f"spec file {spec} not found (looked at {full})",
            exit_code=ex.USAGE,
            hint="create one with `agentctl spec new <name>`",
        )
    if getattr(a, "attempts", None):
        from harness_ls.cli.commands.attempts import start

        return start(app, str(ws), spec)
    body = {"workspace": str(ws), "spec": spec, "model": a.model, "resume": a.resume}
    if getattr(a, "branch", False):
        body["branch"] = True
    try:
        meta = client.post("/v1/runs", json={k: v for k, v in body.items() if v is not None})
    except CliError as err:
        lines = problem_lines(spec, err.details)
        if lines:
            err.lines, err.details = lines, err.details
            err.hint = f"fix them, then run again (`harness-ls check {spec}` lists them too)"
            err.message = f"spec {spec} is not valid ({len(lines)} problem(s))"
        raise
    run_id = meta["id"]
    if spec != "<inline>" and not a.resume:
        _note_warnings(app, ws, spec)
    if not a.follow:
        if app.json:
            app.emit_json(meta)
        else:
            app.out(run_id)
            app.note(f"follow it with: agentctl attach {run_id}")
        return ex.OK
    if not app.json:
        app.out(run_id)
    return _attach(app, run_id)


def _note_warnings(app: Any, ws: Path, spec: str) -> None:
    """The spec's warnings on stderr (the run goes on): `spec new` then `run` sent the agent the
    template's placeholder text with nothing said."""
    from harness_ls.core.inputs import spec_warnings

    lines = problem_lines(spec, spec_warnings(ws, spec))
    for line in lines:
        app.note(line)
    if lines:
        app.note(f"the run goes on; `harness-ls check {spec}` lists them, the editor shows them")


def attach(app: Any) -> int:
    if app.args.run_id.startswith("session_"):  # `attach` a session: follow its turns
        from harness_ls.cli.commands.sessions import follow_session

        app.args.session_id, app.args.history = app.args.run_id, True
        return follow_session(app)
    return _attach(app, app.args.run_id)


def _attach(app: Any, run_id: str) -> int:
    client = app.client()
    known = client.get(f"/v1/runs/{run_id}").get("last_seq") or 0  # NotFound (exit 5) first
    # a terminal event before the log's end is history: a resumed run goes on after it

    def ended(ev: dict) -> bool:
        return ev.get("type") in TERMINAL and (ev.get("seq") or 0) >= known

    try:
        last = follow(app, f"/v1/runs/{run_id}/events", until=ended)
    except Detached:
        app.note(f"detached from {run_id}; it keeps going. Reattach: agentctl attach {run_id}")
        return ex.DETACHED
    if last is None:  # the stream ended without an end event: ask for the status
        status = client.get(f"/v1/runs/{run_id}").get("status")
        return ex.OK if status == "completed" else ex.FAILED
    return ex.OK if last.get("type") == "run.completed" else ex.FAILED


def approve(app: Any) -> int:
    a = app.args
    return answer(app, f"/v1/runs/{a.run_id}/approvals/{a.step}", f"{a.step} ({a.run_id})")


def approvals(app: Any) -> int:
    pending = list(app.client().get("/v1/approvals"))
    seen = {p.get("id") for p in pending}
    for client in app.other_clients():  # the runs of an editor's harness-ls are its own
        try:
            more = client.get("/v1/approvals")
        except CliError:
            continue  # a host that does not answer holds nothing we could approve
        finally:
            client.close()
        pending += [p for p in more if p.get("id") not in seen]
        seen |= {p.get("id") for p in more}
    if app.json:
        app.emit_json(pending)
        return ex.OK
    if not pending:
        app.out("no pending approvals")
        return ex.OK
    from harness_ls.cli.approval_text import approval_lines
    from harness_ls.cli.render import answer_command
    from harness_ls.core.views import safe

    for p in pending:
        owner = safe(p.get("run_id") or p.get("session_id") or "")
        head, *rest = approval_lines(app.style, p, indent="    ")
        app.out(f"{head}  {app.style.dim(owner)}")
        for line in rest:
            app.out(line)
        ev = {"run_id": p.get("run_id"), "session_id": p.get("session_id"),
              "data": {"approval_id": p.get("id")}}  # fmt: skip
        app.out(f"    {safe(answer_command(ev)[0])}")
    return ex.OK


def export(app: Any) -> int:
    a = app.args
    out = Path(a.out or f"{a.run_id}.zip").expanduser()
    if out.is_dir():
        out = out / f"{a.run_id}.zip"
    size = app.client().download(f"/v1/runs/{a.run_id}/export", out)
    if app.json:
        app.emit_json({"run_id": a.run_id, "path": str(out.resolve()), "bytes": size})
    else:
        app.out(f"{app.style.ok} wrote {out} ({size} bytes)")
    return ex.OK


def list_runs(app: Any) -> int:
    a = app.args
    params: dict[str, Any] = {"limit": a.limit}
    if a.status:
        params["status"] = a.status
    runs = app.client().get("/v1/runs", params=params)
    if app.json:
        app.emit_json(runs)
        return ex.OK
    if not runs:
        app.out("no runs" + (f" with status {a.status}" if a.status else ""))
        app.note("start one with: agentctl run --workspace . --spec specs/<name>/spec.md")
        return ex.OK
    from harness_ls.cli.render import visible  # titles are spec folders a repo named: no raw ESC

    runs = visible(runs)
    rows = [[r["id"], _status(app, r.get("status", "")), age(r.get("created_at")),
             r.get("title") or r.get("spec_path") or "", r.get("model") or "offline",
             r.get("node") or "local", r.get("outcome") or ""] for r in runs]  # fmt: skip
    app.out(table(["RUN", "STATUS", "CREATED", "TITLE", "MODEL", "NODE", "OUTCOME"], rows))
    return ex.OK


def _status(app: Any, status: str) -> str:
    s = app.style
    color = {"completed": s.green, "failed": s.red, "waiting_approval": s.yellow,
             "running": s.cyan, "cancelled": s.dim, "interrupted": s.yellow}.get(status)  # fmt: skip
    return color(status) if color else status


def cancel(app: Any) -> int:
    path = f"/v1/runs/{app.args.run_id}/cancel"
    try:
        meta = app.client().post(path)
    except CliError as err:
        # "run ... is already being written by process N": that host runs it (an editor's
        # harness-ls, another agentd): ask it, when it is a live host of this data dir
        owner = err.details.get("pid") if isinstance(err.details, dict) else None
        hosts = app.other_clients() if err.code == "storage_error" and owner else []
        mine = next((c for c in hosts if c.target.pid == owner), None)
        for client in hosts:
            if client is not mine:
                client.close()
        if mine is None:
            raise
        try:
            meta = mine.post(path)
        finally:
            mine.close()
    if app.json:
        app.emit_json(meta)
    else:
        app.out(f"{app.style.ok} {app.args.run_id} {meta.get('status', 'cancelled')}")
    return ex.OK
