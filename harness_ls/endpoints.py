"""Endpoint files: how `agentctl` finds a running host (agentd or an editor's harness-ls).

Each host writes `<data_dir>/endpoints/<pid>.json` = {url, pid, kind, started_at} when it starts
serving and removes it on exit (0600, in a 0700 folder). The token is never written here. Readers skip files whose process
is gone (a host killed with -9 cannot clean up).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness_ls.private import private_dir, write_private


def endpoint_dir(data_dir: Path) -> Path:
    return data_dir / "endpoints"


def write_endpoint(data_dir: Path, url: str, kind: str) -> Path:
    folder = endpoint_dir(data_dir)
    private_dir(folder)
    path = folder / f"{os.getpid()}.json"
    started = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    doc = {"url": url, "pid": os.getpid(), "kind": kind, "started_at": started}
    write_private(path, json.dumps(doc).encode())
    return path


def remove_endpoint(path: Path | None) -> None:
    if path is None:
        return
    try:
        path.unlink()
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_endpoints(data_dir: Path) -> list[dict[str, Any]]:
    """Endpoints of live hosts, newest first (agentd before harness-ls when started together)."""
    out: list[dict[str, Any]] = []
    folder = endpoint_dir(data_dir)
    if not folder.is_dir():
        return out
    for path in folder.glob("*.json"):
        try:
            info = json.loads(path.read_text())
            pid = int(info["pid"])
            str(info["url"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid):
            info["path"] = str(path)
            out.append(info)
    out.sort(key=lambda i: (i.get("started_at", ""), i.get("kind") == "agentd"), reverse=True)
    return out
