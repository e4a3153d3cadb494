"""Attachments cannot fill the disk: a quota per session and one per data dir, each a clear 413.

Before, an authenticated client (the dashboard, a script with the token) could upload 20 MiB
attachments one after the other without end, filling the disk that holds the data dir — and with
it the event logs every run needs. A real agentd on 127.0.0.1 with small quotas (set by the
variables agentd reads) answers 413 `quota_exceeded` naming the limit, the variable and what to
do, stores nothing more, and keeps answering.
"""

from __future__ import annotations

from pathlib import Path

from harness_ls.agent.attachments import SESSION_QUOTA_ENV, TOTAL_QUOTA_ENV
from tests.e2e.helpers import Api, clean_env, make_repo, start_agentd

TOKEN = "quota-test-token-0123456789abcdef"
KIB = 1024


def _upload(api: Api, sid: str, name: str, size: int):
    return api.c.post(
        f"/v1/sessions/{sid}/attachments", files={"file": (name, b"x" * size, "text/plain")}
    )


def _stored(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("sessions/*/attachments/*"))


def test_attachments_stop_at_the_session_and_data_dir_quotas(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN)
    env[SESSION_QUOTA_ENV], env[TOTAL_QUOTA_ENV] = "1", "1.5"  # MiB
    daemon = start_agentd(tmp_path, data, env=env)
    api = Api(daemon.url, TOKEN)
    try:
        ws = make_repo(tmp_path / "ws")
        first = api.post("/v1/sessions", {"workspace": str(ws)})["id"]
        for i in range(2):
            r = _upload(api, first, f"part{i}.txt", 400 * KIB)
            assert r.status_code in (200, 201), r.text
        r = _upload(api, first, "part2.txt", 400 * KIB)  # 1.2 MiB > 1 MiB per session
        assert r.status_code == 413, r.text
        err = r.json()["error"]
        assert err["code"] == "quota_exceeded", err
        assert "the limit per session is 1.0 MiB" in err["message"], err
        assert SESSION_QUOTA_ENV in err["message"] and "new session" in err["hint"], err
        assert _stored(data) == 800 * KIB

        second = api.post("/v1/sessions", {"workspace": str(ws)})["id"]
        r = _upload(api, second, "more.txt", 500 * KIB)
        assert r.status_code in (200, 201), r.text
        r = _upload(api, second, "again.txt", 300 * KIB)  # 1.56 MiB > 1.5 MiB in the data dir
        assert r.status_code == 413, r.text
        err = r.json()["error"]
        assert err["code"] == "quota_exceeded", err
        assert "the limit for the data dir is 1.5 MiB" in err["message"], err
        assert TOTAL_QUOTA_ENV in err["message"] and "delete old sessions" in err["hint"], err
        assert _stored(data) == 1300 * KIB
        assert "Traceback" not in r.text and "Traceback" not in daemon.stderr()
        assert api.get("/v1/sessions")  # still answering
    finally:
        api.close()
        daemon.stop()
