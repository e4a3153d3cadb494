"""Code lenses on a spec: "▶ Run spec" on `# Goal` (with the reason when it can't run), the live
run's Cancel / dashboard / pending-approvals lenses, and "Run acceptance tests"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as t

from harness_ls.spec import Severity
from harness_ls.spec.validate import normalize

if TYPE_CHECKING:
    from harness_ls.lsp.documents import SpecState
    from harness_ls.lsp.server import HarnessLanguageServer


def _line_range(line: int) -> t.Range:
    return t.Range(start=t.Position(line=line, character=0), end=t.Position(line=line, character=0))


def _anchors(ls: HarnessLanguageServer, state: SpecState) -> tuple[int, int | None]:
    """The lines of `# Goal` (0 when missing) and `# Acceptance tests` (None when missing)."""
    schema, _ = ls.specs.schema_for(state.uri)
    ids = {normalize(s.heading): s.id for s in schema.sections}
    goal_line = acceptance_line = None
    for h in state.parsed.headings:
        sid = ids.get(normalize(h.text)) if h.level == 1 else None
        if sid == "goal" and goal_line is None:
            goal_line = h.line
        elif sid == "acceptance" and acceptance_line is None:
            acceptance_line = h.line
    return (0 if goal_line is None else goal_line), acceptance_line


def lens_key(ls: HarnessLanguageServer, state: SpecState) -> tuple[int, int, int | None]:
    """What the lint lenses depend on: the error count and the lines they sit on."""
    errors = sum(1 for p in state.problems if p.severity == Severity.error)
    return (errors, *_anchors(ls, state))


def lenses_for(ls: HarnessLanguageServer, uri: str) -> list[t.CodeLens]:
    from harness_ls.lsp.runtime import runtime

    state = ls.spec_state(uri)
    if state is None:
        return []
    goal_line, acceptance_line = _anchors(ls, state)
    out: list[t.CodeLens] = []
    rt = runtime(ls)
    view = rt.run_for_spec(uri)
    errors = [p for p in state.problems if p.severity == Severity.error]
    if view is not None:
        pending = rt.pending_count(view.run_id)
        step = f" — {view.step}" if view.step else ""
        out.append(
            t.CodeLens(
                range=_line_range(goal_line),
                command=t.Command(
                    title=f"■ Cancel run{step}",
                    command="harness.cancelRun",
                    arguments=[view.run_id],
                ),
            )
        )
        out.append(
            t.CodeLens(
                range=_line_range(goal_line),
                command=t.Command(
                    title="Open dashboard", command="harness.openDashboard", arguments=[view.run_id]
                ),
            )
        )
        label = f"{pending} approval{'s' if pending != 1 else ''} pending"
        out.append(
            t.CodeLens(
                range=_line_range(goal_line),
                command=t.Command(title=label, command="harness.showRun", arguments=[view.run_id]),
            )
        )
    elif errors:
        title = (
            f"▶ Run spec (disabled: fix {len(errors)} error{'s' if len(errors) != 1 else ''} first)"
        )
        out.append(
            t.CodeLens(
                range=_line_range(goal_line),
                command=t.Command(title=title, command="harness.runSpec", arguments=[uri]),
            )
        )
    else:
        out.append(
            t.CodeLens(
                range=_line_range(goal_line),
                command=t.Command(title="▶ Run spec", command="harness.runSpec", arguments=[uri]),
            )
        )
    if acceptance_line is not None:
        out.append(
            t.CodeLens(
                range=_line_range(acceptance_line),
                command=t.Command(
                    title="Run acceptance tests",
                    command="harness.runAcceptanceTests",
                    arguments=[uri],
                ),
            )
        )
    return out


class LensKeys(dict):
    """uri -> the lens_key its lenses were last computed from (a part of the server)."""


def note_state(ls: HarnessLanguageServer, state: SpecState) -> None:
    """A new parse of a spec: when it changes what the lenses say or where they sit ("fix 3
    errors first" after a fix-all), ask the client to fetch them again."""
    caps = ls.client_capabilities.workspace if ls.client_capabilities else None
    if not (caps and caps.code_lens and caps.code_lens.refresh_support):
        return
    keys = ls.parts.get(LensKeys, LensKeys)
    key = lens_key(ls, state)
    if keys.get(state.uri, key) != key:
        refresh(ls)
    keys[state.uri] = key


def refresh(ls: HarnessLanguageServer) -> None:
    caps = ls.client_capabilities.workspace if ls.client_capabilities else None
    if caps and caps.code_lens and caps.code_lens.refresh_support:
        try:
            ls.workspace_code_lens_refresh(None)
        except Exception:
            pass


def register(server: HarnessLanguageServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_CODE_LENS, t.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: HarnessLanguageServer, params: t.CodeLensParams):
        return lenses_for(ls, params.text_document.uri) or None
