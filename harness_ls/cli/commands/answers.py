"""Answering one approval (approve or deny, with a note or a similar-rule), shared by runs and sessions.

Its own module so `runs` and `sessions` both use it without importing each other.
"""

from __future__ import annotations

from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError


def answer(app: Any, url: str, what: str) -> int:
    a = app.args
    body: dict[str, Any] = {"decision": "deny" if a.deny else "approve"}
    if a.note:
        body["note"] = a.note
    if a.similar:
        if a.deny:
            raise CliError("--similar only applies to approvals", exit_code=ex.USAGE)
        body["scope"] = "similar"
    result = _post_to_owner(app, url, body)
    if app.json:
        app.emit_json(result)
    else:
        word = "denied" if a.deny else "approved"
        mark = app.style.bad if a.deny else app.style.ok
        app.out(f"{mark} {word} {what}")
        rule = result.get("similar") if isinstance(result, dict) else None
        if a.similar and rule:
            app.out(f"  rule added: {rule}")
    return ex.OK


def _post_to_owner(app: Any, url: str, body: dict[str, Any]) -> Any:
    """POST the answer to the host holding the approval: the one agentctl talks to, else (when
    it knows no such approval) each other live host, e.g. the editor that started the run."""
    try:
        return app.client().post(url, json=body)
    except CliError as first:
        if first.exit_code != ex.NOT_FOUND:
            raise
        for client in app.other_clients():
            try:
                return client.post(url, json=body)
            except CliError as err:
                if err.exit_code not in (ex.NOT_FOUND, ex.UNREACHABLE):
                    raise  # that host holds it: e.g. answered already
            finally:
                client.close()
        raise first from None
