"""Typed errors shared by the core and mapped by hosts (HTTP status, LSP error, CLI exit code).

Every error carries a stable `code`, a one-line `message` that names what was wrong, and an
optional `hint` saying what to do. Hosts never show tracebacks for these.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class: a user-facing failure with a stable code and a fix hint."""

    code = "error"
    status = 500  # HTTP status hosts use

    def __init__(self, message: str, *, hint: str | None = None, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.details is not None:
            out["details"] = self.details
        return out


class NotFound(HarnessError):
    code = "not_found"
    status = 404


class InvalidInput(HarnessError):
    code = "invalid_input"
    status = 422


class QuotaExceeded(HarnessError):
    """Storing this would pass a size quota (attachments per session or per data dir)."""

    code = "quota_exceeded"
    status = 413


class Conflict(HarnessError):
    """The action clashes with current state (e.g. an approval already answered)."""

    code = "conflict"
    status = 409


class StorageError(HarnessError):
    """The data dir cannot be written or read (full disk, read-only, locked by another writer)."""

    code = "storage_error"
    status = 507


class ModelError(HarnessError):
    code = "model_error"
    status = 502


class Refused(HarnessError):
    """A policy or containment rule refused the action."""

    code = "refused"
    status = 403
