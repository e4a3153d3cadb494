"""A deterministic crash for tests: `HARNESS_TEST_KILL_AT=<point>:<n>` makes the process SIGKILL
itself the n-th time it reaches `<point>` (1 when `:<n>` is left out).

Points in a tool call's life (agent/loop.py): `approved` (approval.resolved written, the tool not
started), `executing` (the tool returned, its effects are done, its result is not written yet),
`result` (tool.result written). The crash tests (tests/e2e/test_crash_resume.py) use it for the
points an outside `kill -9` cannot hit reliably; unset (always, outside tests) it costs one
dict lookup.
"""

from __future__ import annotations

import os
import signal

_seen: dict[str, int] = {}


def kill_point(name: str) -> None:
    spec = os.environ.get("HARNESS_TEST_KILL_AT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
