"""One call on a daemon thread, its result (or exception) collected later."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Background:
    """One call run on a daemon thread: git's wall time (a few subprocesses, `git log` of up to
    2000 commits) overlaps the tag parse instead of following it."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._out: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self._out.append((True, fn(*args)))
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._out.append((False, exc))

    def result(self) -> Any:
        self._thread.join()
        ok, value = self._out[0]
        if not ok:
            raise value
        return value
