"""Session commands (daemon): new, message (follows the reply), approve, attach, follow, cancel,
list, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.commands.answers import answer
from harness_ls.cli.errors import CliError
from harness_ls.cli.follow import Detached, follow
from harness_ls.cli.tables import age, table
from harness_ls.cli.workspace import spec_arg, workspace_arg

TURN_END = frozenset({"turn.completed", "turn.cancelled"})


def new(app: Any) -> int:
    a = app.args
    ws = workspace_arg(a.workspace)
    if a.spec:
        a.spec = spec_arg(a.spec, ws)
    mode = a.mode or ("spec" if a.spec else "chat")
    if mode == "spec" and not a.spec:
        raise CliError("--mode spec needs --spec PATH", exit_code=ex.USAGE,
                       hint="e.g. --mode spec --spec specs/health/spec.md")  # fmt: skip
    if mode == "chat" and a.spec:
        raise CliError("--spec only applies to --mode spec", exit_code=ex.USAGE)
    body = {
        "workspace": str(ws),
        "mode": mode,
        "spec_path": a.spec,
        "model": a.model,
        "title": a.title,
    }
    meta = app.client().post("/v1/sessions", json={k: v for k, v in body.items() if v is not None})
    if app.json:
        app.emit_json(meta)
    else:
        app.out(meta["id"])
        app.note(f'talk to it: agentctl session message --text "..." {meta["id"]}')
    return ex.OK


def message(app: Any) -> int:
    a = app.args
    sid = a.session_id
    text = a.text
    if text == "-":
        text = sys.stdin.read()
    text = (text or "").strip()
    if not text and not a.ref:
        raise CliError("the message is empty", exit_code=ex.USAGE,
                       hint='pass --text "..." and/or --ref attachments/<name>')  # fmt: skip
    if a.mime and not a.ref:
        raise CliError("--mime only applies with --ref", exit_code=ex.USAGE)
    for ref in a.ref:
        if not ref.startswith("attachments/"):
            raise CliError(f"--ref {ref!r} is not an attachment ref", exit_code=ex.USAGE,
                           hint="use the ref `agentctl session attach --file F <id>` printed")  # fmt: skip
    client = app.client()
    meta = client.get(f"/v1/sessions/{sid}")
    after = int(meta.get("last_seq") or 0)
    if not text:  # the API wants some text with attachments; say what they are
        text = "See the attached file" + ("s." if len(a.ref) > 1 else ".")
    refs = [{"ref": r, "mime": a.mime} for r in a.ref] if a.mime else list(a.ref)
    result = client.post(f"/v1/sessions/{sid}/messages", json={"text": text, "attachments": refs})
    turn_id = (result or {}).get("turn_id")
    if a.no_follow or not turn_id:
        if app.json:
            app.emit_json(result)
        else:
            app.out(turn_id or "sent")
            app.note(f"follow the reply: agentctl session follow {sid}")
        return ex.OK
    state = {"ours": False, "mine_started": False}

    def visible(ev: dict[str, Any]) -> bool:
        d = ev.get("data") or {}
        if ev.get("type") == "user.message" and d.get("turn_id") == turn_id:
            state["ours"] = True
            return app.json  # the user just typed it: do not echo in human mode
        if ev.get("type") == "turn.started" and d.get("turn_id") == turn_id:
            state["mine_started"] = True
            return app.json
        return state["mine_started"]

    def done(ev: dict[str, Any]) -> bool:
        return ev.get("type") in TURN_END and (ev.get("data") or {}).get("turn_id") == turn_id

    if result.get("queued"):
        app.note("a turn is running; yours is queued behind it…")
    try:
        last = follow(app, f"/v1/sessions/{sid}/events", after=after, until=done, on_event=visible)
    except Detached:
        app.note(
            f"stopped following; the turn goes on. Follow again: agentctl session follow {sid}"
        )
        return ex.DETACHED
    if last is None:
        return ex.FAILED
    d = last.get("data") or {}
    return ex.OK if last.get("type") == "turn.completed" and d.get("ok", True) else ex.FAILED


def follow_session(app: Any) -> int:
    a = app.args
    meta = app.client().get(f"/v1/sessions/{a.session_id}")
    after = 0 if a.history else int(meta.get("last_seq") or 0)
    try:
        follow(app, f"/v1/sessions/{a.session_id}/events", after=after,
               until=lambda ev: ev.get("type") in ("session.closed", "session.interrupted"))  # fmt: skip
    except Detached:
        return ex.DETACHED
    return ex.OK


def approve(app: Any) -> int:
    a = app.args
    url = f"/v1/sessions/{a.session_id}/approvals/{a.call}"
    return answer(app, url, f"{a.call} ({a.session_id})")


def attach_file(app: Any) -> int:
    a = app.args
    path = Path(a.file).expanduser()
    if not path.is_file():
        raise CliError(f"file {a.file} not found", exit_code=ex.USAGE)
    # No declared type unless the user gave --mime: the server sniffs the content (a type
    # guessed from the extension, e.g. .rs → application/rls-services+xml, would be refused).
    mime = a.mime or "application/octet-stream"
    with path.open("rb") as fh:
        info = app.client().post(
            f"/v1/sessions/{a.session_id}/attachments", files={"file": (path.name, fh, mime)}
        )
    if app.json:
        app.emit_json(info)
    else:
        app.out(info["ref"])
        app.note(
            f"send it: agentctl session message --ref {info['ref']} --mime {info.get('mime', mime)} {a.session_id}"
        )
    return ex.OK


def cancel(app: Any) -> int:
    result = app.client().post(f"/v1/sessions/{app.args.session_id}/cancel")
    if app.json:
        app.emit_json(result)
    else:
        app.out(f"{app.style.ok} cancelled the running turn of {app.args.session_id}")
    return ex.OK


def list_sessions(app: Any) -> int:
    a = app.args
    params: dict[str, Any] = {"limit": a.limit}
    if a.status:
        params["status"] = a.status
    sessions = app.client().get("/v1/sessions", params=params)
    if app.json:
        app.emit_json(sessions)
        return ex.OK
    if not sessions:
        app.out("no sessions")
        app.note("start one with: agentctl session new --workspace .")
        return ex.OK
    from harness_ls.cli.render import visible  # titles are first messages: no raw ESC/bidi

    sessions = visible(sessions)
    rows = [[s["id"], s.get("status", ""), age(s.get("created_at")),
             s.get("mode") or (s.get("extra") or {}).get("mode") or "", s.get("surface") or "",
             s.get("title") or s.get("spec_path") or ""]
            for s in sessions]  # fmt: skip
    app.out(table(["SESSION", "STATUS", "CREATED", "MODE", "FROM", "TITLE"], rows))
    return ex.OK


def export(app: Any) -> int:
    a = app.args
    out = Path(a.out or f"{a.session_id}.zip").expanduser()
    if out.is_dir():
        out = out / f"{a.session_id}.zip"
    size = app.client().download(f"/v1/sessions/{a.session_id}/export", out)
    if app.json:
        app.emit_json({"session_id": a.session_id, "path": str(out.resolve()), "bytes": size})
    else:
        app.out(f"{app.style.ok} wrote {out} ({size} bytes)")
    return ex.OK
