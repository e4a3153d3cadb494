"""What a run is doing, as one line and a percentage, from its events: pure, so every client
(`$/progress`, `window/showMessage`, `harness/runStatus`) is told the same thing exactly once.

`RunProgress.apply(event)` returns the new `Progress` when the state changed and None when it
did not, so a caller that sends only what `apply` returns never repeats itself ("plan: Plan"
twice) and never leaves a state standing after it ended ("waiting for approval" after the
answer, 100 % while the acceptance tests run).

percentage = work units done / units planned, units = the plan's steps + verify + docs; it moves
at each step's end, at each acceptance test's result and at the docs' end, and never goes back
(a fix attempt re-runs verify inside the verify unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Progress(NamedTuple):
    message: str
    percentage: int
    boundary: bool  # a phase or step starts, or the run waits for the user


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass
class RunProgress:
    plan: list[str] = field(default_factory=list)  # plan step ids, in order
    done: set[str] = field(default_factory=set)
    tests: list[str] = field(default_factory=list)  # commands of the verify attempt running
    results: list[bool] = field(default_factory=list)
    skipped: bool = False  # offline: execute was skipped
    verified: bool = False
    documented: bool = False
    head: str = "plan"  # the phase: plan, execute, verify, fix, docs
    part: str = ""  # where in it: "step 2/3", "test 1/2"
    detail: str = "planning"  # what happens there
    waiting: dict[str, str] = field(default_factory=dict)  # approval id -> what it asks
    percentage: int = 0
    last: Progress | None = None

    @property
    def step(self) -> str:
        """What happens now, without the phase: the step's title, the test's command, or
        "waiting for approval: …" (harness/runStatus' `step`, the lens, the end message)."""
        if self.waiting:
            return _shown(f"waiting for approval: {next(reversed(self.waiting.values()))}")
        return _shown(self.detail)

    @property
    def message(self) -> str:
        return f"{self.head}: " + (f"{self.part} — {self.step}" if self.part else self.step)

    def _set(self, head: str, part: str, detail: str) -> None:
        self.head, self.part, self.detail = head, part, detail

    def _units(self) -> float:
        """Units done of len(plan) + 2 (verify, docs)."""
        n = len(self.plan)
        if self.documented:
            return n + 2.0
        if self.verified:
            return n + 1.0
        if self.tests:
            return n + len(self.results) / len(self.tests)
        return float(n if self.skipped else len(self.done & set(self.plan)))

    def _step(self, data: dict[str, Any], step_id: str | None) -> None:
        phase = str(data.get("phase") or "execute")
        title = str(data.get("title") or phase)
        if phase == "plan":
            self._set("plan", "", "planning")
        elif phase == "execute" and step_id in self.plan:
            self._set("execute", f"step {self.plan.index(step_id) + 1}/{len(self.plan)}", title)
        else:
            self._set(phase, "", title)

    def _verify_started(self, data: dict[str, Any]) -> None:
        self.tests = [str(c) for c in data.get("commands") or []]
        self.results = []
        self.verified = False
        attempt = int(data.get("attempt") or 1)
        self.head = "verify" if attempt == 1 else f"verify (attempt {attempt})"
        self._next_test()

    def _next_test(self) -> None:
        n, total = len(self.results), len(self.tests)
        if not total:
            self.verified = True
            self.part, self.detail = "", "no acceptance tests to run"
        elif n < total:
            self.part, self.detail = f"test {n + 1}/{total}", f"`{self.tests[n]}`"
        else:
            self.verified = True
            self.part, self.detail = "", f"{sum(self.results)}/{total} passed"

    def _docs(self, data: dict[str, Any]) -> None:
        self.documented = True
        paths = [str(p) for p in data.get("paths") or []]
        self._set("docs", "", f"{', '.join(paths)} updated" if paths else "nothing to update")

    def _event(self, kind: str, data: dict[str, Any], step_id: str | None) -> bool:
        """Update the state; False for events that tell nothing new."""
        if kind in ("run.started", "run.resumed"):
            self._set("plan", "", "planning")
        elif kind == "plan.updated":
            steps = [s for s in data.get("steps") or [] if isinstance(s, dict)]
            self.plan = [str(s.get("id")) for s in steps]
            self.done = {str(i) for i in data.get("completed") or []} & set(self.plan)
            ready = f"{_plural(len(self.plan), 'step')} ready"
            self._set("plan", "", ready + (f", {len(self.done)} already done" if self.done else ""))
        elif kind == "step.started":
            self._step(data, step_id)
        elif kind == "step.completed":
            if step_id not in self.plan or data.get("phase") not in (None, "execute"):
                return False  # plan/fix/docs ends: the next event says what comes next
            self.done.add(step_id)
            self._set("execute", "", f"{len(self.done)}/{len(self.plan)} steps done")
        elif kind == "approval.requested":
            shown = (data.get("view") or {}).get("title") or data.get("tool") or "a step"
            self.waiting[str(data.get("approval_id") or step_id)] = str(shown)
        elif kind == "approval.resolved":
            if data.get("decision") == "cancelled":
                return False  # the run stops while it waits: its end says so
            self.waiting.pop(str(data.get("approval_id") or step_id), None)
        elif kind == "model.unavailable":
            self.skipped = True
            self._set("execute", "", "skipped (no model configured)")
        elif kind == "verify.started":
            self._verify_started(data)
        elif kind == "verify.result":
            if len(self.results) >= len(self.tests):
                return False
            self.results.append(bool(data.get("ok")))
            self._next_test()
        elif kind == "docs.updated":
            self._docs(data)
        else:
            return False
        return True

    def apply(self, kind: str, data: dict[str, Any] | None, step_id: str | None) -> Progress | None:
        """The new state after event `kind`, or None when nothing a user sees changed."""
        if not self._event(kind, data or {}, step_id):
            return None
        pct = int(100 * self._units() / (len(self.plan) + 2))
        self.percentage = max(self.percentage, min(pct, 100))
        boundary = kind in BOUNDARIES
        now = Progress(self.message, self.percentage, boundary)
        if self.last is not None and now[:2] == self.last[:2]:
            return None
        self.last = now
        return now


def _shown(message: str) -> str:
    """A model's plan-step title, a test's command or an MCP tool's name, with control and bidi
    characters made visible: editors put this line into a terminal's status line (Helix, Neovim
    plugins) or a notification, where `ESC]52;…` would write the clipboard and U+202E reorder."""
    from harness_ls.core.views import visible

    return str(visible(message))


# events that start a phase or a step, or make the run wait for the user: what a client without
# $/progress is told (window/showMessage), so it hears of every step without hearing of each test
BOUNDARIES = frozenset(
    {"run.started", "run.resumed", "step.started", "approval.requested", "verify.started",
     "model.unavailable"}
)  # fmt: skip
