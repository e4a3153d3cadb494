"""Exit codes and the one error type every `agentctl` command raises.

A command never prints a traceback: `CliError` (and the core's `HarnessError` family, mapped by
`exit_code_for`) becomes one `agentctl: error: ...` line plus a `hint:` line, and a documented
exit status. `HARNESS_DEBUG=1` shows tracebacks.
"""

from __future__ import annotations

from typing import Any

OK = 0
FAILED = 1  # the run failed / was cancelled, doctor found problems
USAGE = 2  # bad flags or bad input (invalid spec, missing file, ...)
UNREACHABLE = 3  # no daemon answered at the URL
TOKEN_REJECTED = 4  # the daemon wants a token / rejected ours
NOT_FOUND = 5  # unknown run, session, approval or checkpoint
CONFLICT = 6  # already exists / already answered / busy
DETACHED = 130  # Ctrl-C: stopped following (the run goes on)

EXIT_CODES: dict[int, str] = {
    OK: "success (attach: the run completed)",
    FAILED: "the run failed or was cancelled/interrupted, or a check failed",
    USAGE: "usage error or bad input (flags, invalid spec, missing file)",
    UNREACHABLE: "cannot reach the daemon (agentd or an editor's harness-ls)",
    TOKEN_REJECTED: "the daemon rejected the token (or needs one)",
    NOT_FOUND: "unknown run, session, approval or checkpoint",
    CONFLICT: "conflict: already exists, already answered, busy, or revert kept your edits",
    DETACHED: "detached with Ctrl-C (the run keeps going)",
}

_BY_HARNESS_CODE = {
    "not_found": NOT_FOUND,
    "invalid_input": USAGE,
    "usage": USAGE,
    "conflict": CONFLICT,
    "unauthorized": TOKEN_REJECTED,
}
_BY_STATUS = {
    400: USAGE,
    401: TOKEN_REJECTED,
    404: NOT_FOUND,
    409: CONFLICT,
    413: USAGE,
    415: USAGE,
    422: USAGE,
}


class CliError(Exception):
    """A user-facing failure: message, optional hint, exit code, optional detail lines."""

    def __init__(
        self,
        message: str,
        *,
        exit_code: int = FAILED,
        hint: str | None = None,
        code: str = "error",
        details: Any = None,
        lines: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.hint = hint
        self.code = code
        self.details = details
        self.lines = lines or []

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.details is not None:
            out["details"] = self.details
        out["exit_code"] = self.exit_code
        return out


def exit_code_for(code: str | None, status: int | None = None) -> int:
    """Exit status for an error code (HarnessError.code or the API's error.code) or HTTP status."""
    if code in _BY_HARNESS_CODE:
        return _BY_HARNESS_CODE[code]
    if status is not None and status in _BY_STATUS:
        return _BY_STATUS[status]
    return FAILED


def from_harness(exc: Any) -> CliError:
    """A core `HarnessError` (local commands) as a CliError with its exit code."""
    return CliError(
        exc.message,
        exit_code=exit_code_for(getattr(exc, "code", None), getattr(exc, "status", None)),
        hint=exc.hint,
        code=getattr(exc, "code", "error"),
        details=exc.details,
    )
