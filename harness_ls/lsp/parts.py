"""Typed places where features share state and contribute to each other, instead of string keys.

A feature that keeps per-server state registers it by class (`parts.get(EditorRuntime, make)`),
and a feature that adds diagnostics or code actions to what another feature publishes appends a
provider to a typed list on the server, so each contribution is wired explicitly at registration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from lsprotocol import types as t

    from harness_ls.lsp.server import HarnessLanguageServer

T = TypeVar("T")

# (server, uri) -> extra diagnostics published with the lint diagnostics (push clients).
DiagnosticProvider = Callable[["HarnessLanguageServer", str], "list[t.Diagnostic]"]
# (server, params) -> extra code actions offered with the spec quick fixes.
CodeActionProvider = Callable[["HarnessLanguageServer", "t.CodeActionParams"], "list[t.CodeAction]"]


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
