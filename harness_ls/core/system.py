"""Environment facts for a host's health checks (`/v1/doctor`): git and the model in use.

Hosts ask the core, not the leaf packages (issue 33); a fact is reported, never raised.
"""

from __future__ import annotations

from pydantic import BaseModel

from harness_ls.gitrun import git_available


class Fact(BaseModel):
    """One check's outcome as a host shows it."""

    ok: bool
    detail: str


def git_fact() -> Fact:
    path = git_available()
    return Fact(ok=path is not None, detail=path or "git not found on PATH")


def model_fact(explicit: str | None = None) -> Fact:
    """The model runs would use; offline (no key) is a failed check with the reason why."""
    try:
        from harness_ls.models import resolve

        resolved = resolve("run", explicit=explicit)
        if resolved.is_offline:
            return Fact(
                ok=False,
                detail=f"{resolved.reason} (runs plan offline; set a provider key in .env.local)",
            )
        return Fact(ok=True, detail=f"{resolved.info.provider}/{resolved.info.id}")
    except ImportError:
        return Fact(ok=False, detail="model registry not available")
    except Exception as exc:  # noqa: BLE001 - a doctor reports, it never fails
        return Fact(ok=False, detail=str(exc).splitlines()[0][:300])
