"""Typed places where features share state and contribute to each other, instead of string keys.

A feature that keeps per-server state registers it by class (`parts.get(EditorRuntime, make)`),
and a feature that adds diagnostics or code actions to what another feature publishes appends a
provider to a typed list on the server (server.py's DiagnosticProvider / CodeActionProvider), so
each contribution is wired explicitly at registration. A leaf: it knows nothing of the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Parts:
    """One instance per class: per-server state of the features that need some."""

    def __init__(self) -> None:
        self._parts: dict[type, Any] = {}

    def get(self, cls: type[T], make: Callable[[], T]) -> T:
        part = self._parts.get(cls)
        if part is None:
            part = self._parts[cls] = make()
        return part

    def find(self, cls: type[T]) -> T | None:
        return self._parts.get(cls)
