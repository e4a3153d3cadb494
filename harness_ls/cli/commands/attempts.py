"""Parallel attempts (daemon): start them (`run --attempts N`), compare, apply one, discard."""

from __future__ import annotations

import time
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.tables import table

IN_FLIGHT = ("created", "running", "waiting_approval")


def start(app: Any, ws: str, spec: str) -> int:
    a = app.args
    models = [m.strip() for m in (a.models or "").split(",") if m.strip()] or (
        [a.model] if a.model else []
    )
    view = app.client().post(
        "/v1/attempts", json={"workspace": ws, "spec": spec, "count": a.attempts, "models": models}
    )
    gid = view["group"]["id"]
    if not a.follow:
        if app.json:
            app.emit_json(view)
        else:
            app.out(gid)
            app.note(f"compare them with: agentctl attempts show {gid} --wait")
        return ex.OK
    app.note(f"{gid}: {a.attempts} attempts started; waiting for all of them to end")
    return _render(app, _wait(app, gid))


def _wait(app: Any, gid: str) -> dict:
    client = app.client()
    while True:
        view = client.get(f"/v1/attempts/{gid}")
        if view["done"]:
            return view
        time.sleep(1.0)


def show(app: Any) -> int:
    gid = app.args.attempts_id
    client = app.client()
    if not gid:
        views = client.get("/v1/attempts")
        if app.json:
            app.emit_json(views)
            return ex.OK
        if not views:
            app.out("no attempts; start some with: agentctl run --spec SPEC --attempts 3")
            return ex.OK
        from harness_ls.cli.render import visible  # spec paths a repo named: no raw ESC

        views = visible(views)
        rows = [[v["group"]["id"], _state(v), str(len(v["rows"])),
                 str(sum(r["passed"] for r in v["rows"])), v["group"]["spec_path"]]
                for v in views]  # fmt: skip
        app.out(table(["ATTEMPTS", "STATE", "N", "PASSED", "SPEC"], rows))
        return ex.OK
    view = (
        _wait(app, gid) if getattr(app.args, "wait", False) else client.get(f"/v1/attempts/{gid}")
    )
    return _render(app, view)


def _state(view: dict) -> str:
    g = view["group"]
    if g.get("applied"):
        return f"applied #{g['applied']}"
    if g.get("discarded"):
        return "discarded"
    return "done" if view["done"] else "running"


def _render(app: Any, view: dict) -> int:
    if app.json:
        app.emit_json(view)
        return ex.OK
    s = app.style
    rows = []
    for r in view["rows"]:
        verdict = (
            s.green("passed")
            if r["passed"]
            else (s.cyan(r["status"]) if r["status"] in IN_FLIGHT else s.red(r["status"]))
        )
        rows.append([str(r["attempt"]), verdict, r["tests"], f"{r['files']} (+{r['added']} -{r['removed']})",
                     "n/a" if r["tokens"] is None else str(r["tokens"]), r.get("node") or "local",
                     r.get("model") or "", r["run_id"]])  # fmt: skip
    app.out(table(["#", "RESULT", "TESTS", "FILES (+/-)", "TOKENS", "NODE", "MODEL", "RUN"], rows))
    g = view["group"]
    if g.get("applied") or g.get("discarded"):
        app.note(f"{g['id']}: {_state(view)}")
    elif view["done"]:
        best = next((r["attempt"] for r in view["rows"] if r["passed"]), None)
        app.note("inspect one with: agentctl diff <RUN>")
        app.note(f"apply one with: agentctl attempts apply {g['id']} {best or 'N'}"
                 f"   (or discard all: agentctl attempts discard {g['id']})")  # fmt: skip
    return ex.OK if any(r["passed"] for r in view["rows"]) else ex.FAILED


def apply(app: Any) -> int:
    a = app.args
    report = app.client().post(f"/v1/attempts/{a.attempts_id}/apply", json={"attempt": a.attempt})
    if app.json:
        app.emit_json(report)
        return ex.OK
    app.out(f"{app.style.ok} attempt {a.attempt}: {report['summary']}")
    for f in report.get("files") or []:
        app.out(f"  {f['action']:9} {f['path']}" + (f" — {f['detail']}" if f.get("detail") else ""))
    app.note("the other attempts are discarded (checkouts removed, checkpoints dropped)")
    return ex.OK if report.get("ok") else ex.FAILED


def discard(app: Any) -> int:
    group = app.client().post(f"/v1/attempts/{app.args.attempts_id}/discard")
    if app.json:
        app.emit_json(group)
    else:
        app.out(f"{app.style.ok} {group['id']} discarded; nothing was applied")
    return ex.OK
