"""A run: the state machine plan → execute → verify (→ fix → verify)* → docs, as events.

    created ─▶ plan ─▶ execute ─▶ verify ─┬─▶ docs ─▶ completed
                          ▲               │ failing, attempts left
                          └── fix ◀───────┘ failing, none left ─▶ docs ─▶ failed
    any state ── cancel ─▶ cancelled     any state ── shutdown ─▶ interrupted (resumable)

Each phase is a method here or a function taking the engine (plan.plan_phase,
step.execute_step, verify.approve_test, docs_step.docs_phase); every observable change is an
event in the run's stream (the store derives the run status from them). Offline (no model configured) the run still plans from the
spec, says why execute is skipped and how to configure a model, verifies, and writes a summary.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness_ls.agent import prompts
from harness_ls.agent.books import Books, books_of
from harness_ls.agent.checkpoints import finalize_checkpoints, take_checkpoint
from harness_ls.agent.holds import CallHolds, HeldPolicy
from harness_ls.agent.ids import new_id
from harness_ls.agent.options import RunOptions
from harness_ls.agent.plan import PlanStep, plan_phase
from harness_ls.agent.replay import StepReplay
from harness_ls.agent.repo import note_plain_dir, project_instructions, run_context
from harness_ls.agent.runhandle import RunHandle
from harness_ls.agent.step import execute_step, ms_since
from harness_ls.agent.summary import failing, outcome_text, write_summary
from harness_ls.agent.turn import Usage
from harness_ls.agent.verify import VerifyResult, approve_test, run_verify
from harness_ls.errors import HarnessError, StorageError

if TYPE_CHECKING:
    from harness_ls.agent.host import AgentHost as Harness

log = logging.getLogger("harness_ls.agent.run")

OFFLINE_HINT = (
    "configure a model to let the agent do the work: set OPENAI_API_KEY or ANTHROPIC_API_KEY "
    "(in the environment or .env.local), or HARNESS_MODEL=<provider>:<model> for a local "
    "OpenAI-compatible server (Ollama, vLLM, llama.cpp), then run the spec again"
)


class RunFailed(HarnessError):
    code = "run_failed"
    status = 500


class RunEngine(RunHandle):
    """Drives one run; created by `Harness.start_run`, run as an asyncio task."""

    def __init__(
        self,
        *,
        harness: Harness,
        run_id: str,
        workspace: Path,
        spec_path: str,
        spec_text: str,
        model: str | None,
        options: RunOptions,
        resume: bool = False,
        resume_reason: str | None = None,
    ) -> None:
        super().__init__(harness, run_id, workspace)
        self.spec_path = spec_path
        self.spec_text = spec_text
        self.model_name = model
        self.options = options
        self.resume = resume
        self.resume_reason = resume_reason  # why the run's model was chosen when it started
        self.prior = Books()  # what earlier segments of a resumed run spent (agent/books.py)
        self.usage = Usage()
        self.tool_calls = 0
        self.steps: list[PlanStep] = []
        self.verify_results: list[VerifyResult] = []
        self.phase = "created"
        self.offline_reason: str | None = None
        self.resolved: Any = None
        self.context = ""
        self.checkpointed = False
        self.next_checkpoint = 1  # step numbers start at 1, as attach shows them
        self.replay: StepReplay | None = None  # the step a resumed run was in when it stopped
        self.holds = CallHolds()  # denied / interrupted calls: ask for the whole run (resume too)
        self.started = time.monotonic()
        self.warnings: list[str] = []  # things the user must know although the run completed

    async def open(self) -> None:
        """Take the writer lock on the run's stream (errors surface to the caller of start_run)."""
        self.open_stream()

    async def run(self) -> None:
        try:
            await self._run_and_record()
        except StorageError as exc:  # the log itself cannot be written (full disk, read-only)
            log.error("run %s stopped: %s", self.run_id, exc.one_line())
            # The log cannot say so: the facade reports the run as failed from memory.
            self.harness.unrecorded_failures[self.run_id] = (
                f"could not record the run: {exc.one_line()}"
            )

    async def _run_and_record(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError as exc:
            self.harness.broker.cancel_for(self.run_id)
            await self._finalize()
            if "shutdown" in exc.args:
                data = {"reason": "the harness stopped", "phase": self.phase, "resumable": True}
                await self.end_with("run.interrupted", data, "daemon stopped")
            else:
                data = {"reason": "cancelled", "phase": self.phase}
                await self.end_with("run.cancelled", data, "run cancelled")
        except Exception as exc:  # noqa: BLE001 - every failure becomes run.failed with a reason
            await self._fail(exc)
        finally:
            await self.stream.close()

    async def _fail(self, exc: BaseException) -> None:
        reason = exc.one_line() if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {exc}"
        try:
            await self._write_summary(f"failed: {reason}")
        except Exception:  # noqa: BLE001 - the failure reason matters more than the summary
            pass
        await self._finalize()
        data = {"error": reason, "phase": self.phase, **self._totals()}
        if isinstance(exc, HarnessError):
            data.update(code=exc.code, hint=exc.hint)
        await self.stream.append("run.failed", data)

    # ---- the state machine ------------------------------------------------------------------
    async def _run(self) -> None:
        from harness_ls.agent.mcp_tools import add_mcp_tools
        from harness_ls.spec import acceptance_commands
        from harness_ls.tools import TOOLS, Policy, ToolContext, sandbox
        from harness_ls.tools.trust import workspace_trusted

        resolved = self._resolve_model()
        self.resolved = resolved
        if resolved.is_offline:
            self.offline_reason = resolved.reason or "no model configured"
        reason = resolved.reason
        if self.resume and self.resume_reason and not resolved.is_offline:
            reason = self.resume_reason  # the same model, for the reason it was chosen
        await self.stream.append(
            "run.resumed" if self.resume else "run.started",
            {
                "model": getattr(resolved, "name", resolved.info.id),
                "provider": resolved.info.provider,
                "model_id": resolved.info.id,
                "offline": resolved.is_offline,
                "reason": reason,
                "workspace": str(self.workspace),
                "spec_path": self.spec_path,
            },
        )
        if self.resume:  # after run.resumed: the run shows as running at once
            self.prior = await asyncio.to_thread(self._books)
            self.next_checkpoint = self.prior.next_checkpoint
            self.checkpointed = bool(self.prior.checkpoint_names)
        await note_plain_dir(self.stream, self.workspace)
        self.policy = Policy.load(
            self.workspace, self.harness.data_dir, mode=self.options.policy_mode
        )
        for warning in [*self.policy.warnings, *getattr(resolved, "warnings", [])]:
            await self.stream.append(
                "log", {"level": "warning", "code": "policy.untrusted", "message": warning}
            )
        boxed = sandbox.load(
            self.workspace,
            self.harness.data_dir,
            trusted=workspace_trusted(self.workspace, self.harness.data_dir),
        )
        for warning in sandbox.warnings(boxed):
            await self.stream.append("log", warning)
        self.tool_ctx = ToolContext(
            workspace=self.workspace,
            data_dir=self.harness.data_dir,
            shell_timeout=self.options.shell_timeout,
            extra={"sandbox": boxed, "unmask": getattr(self.policy, "secret_allowed", None)},
        )
        tests = acceptance_commands(self.spec_text)
        self.tools: dict[str, Any] = dict(TOOLS)
        if not self.offline_reason:
            self.tools, self.policy = await add_mcp_tools(
                self.harness, self.workspace, self.stream, self.tools, self.policy
            )
            self.context = await run_context(self)

        self.steps = await self._plan(tests)
        self.phase = "execute"
        if self.offline_reason:
            await self._skip_execute()
        else:
            self.messages = self._conversation()
            for i, step in enumerate(self.steps, 1):
                if step.status == "pending":
                    await self._execute_step(step, prompts.step_prompt(i, len(self.steps), step))
        attempt = 1
        results = await self._verify(tests, attempt)
        while (
            failing(results) and not self.offline_reason and attempt <= self.options.verify_attempts
        ):
            bad = [r for r in results if not r.ok]
            fix = PlanStep(
                id=new_id("st"),
                title=f"Fix failing acceptance tests (attempt {attempt})",
                spec_line=bad[0].line,
            )
            failures = [r.model_dump() for r in bad]
            await self._execute_step(
                fix, prompts.fix_prompt(failures, attempt, self.options.verify_attempts), kind="fix"
            )
            attempt += 1
            results = await self._verify(tests, attempt)
        await self._docs()
        if failing(results):
            bad = [r for r in results if not r.ok]
            first = bad[0]
            why = first.refused or f"exit {first.exit_code}"
            extra = " (execute was skipped: no model configured)" if self.offline_reason else ""
            raise RunFailed(
                f"acceptance tests failed: {len(bad)} of {len(results)} (`{first.command}`: {why}){extra}"
            )
        outcome = outcome_text(results, self.offline_reason, self.warnings)
        await self._write_summary(outcome)
        await self._finalize()
        data = {"outcome": outcome, **self._totals()}
        if self.warnings:
            data["warnings"] = self.warnings
        await self.stream.append("run.completed", data)

    def _resolve_model(self) -> Any:
        """The run's model (a remote worker's engine gets it relayed by the control plane)."""
        from harness_ls.models import resolve

        return resolve(
            "run",
            {"tools"},
            self.model_name,
            workspace=self.workspace,
            data_dir=self.harness.data_dir,
        )

    async def _plan(self, tests: list[Any]) -> list[PlanStep]:
        return await plan_phase(self, tests)

    async def _execute_step(self, step: PlanStep, prompt: str, kind: str = "execute") -> str:
        return await execute_step(self, step, prompt, kind)

    async def _skip_execute(self) -> None:
        for step in self.steps:
            if step.status == "pending":
                step.status = "skipped"
        detail = (self.offline_reason or "").removeprefix("offline: ")
        await self.stream.append(
            "model.unavailable",
            {
                "phase": "execute",
                "reason": self.offline_reason,
                "message": f"execute skipped: no model is configured ({detail})",
                "hint": getattr(self.resolved, "hint", None) or OFFLINE_HINT,
                "skipped_steps": len(self.steps),
            },
        )

    def _conversation(self) -> list[Any]:
        from harness_ls.models import Message

        intro = prompts.execute_intro(self.spec_path, self.spec_text, self.steps)
        if self.context:
            intro += f"\n\nRepository context (read files before editing them):\n{self.context}"
        done = [s.title for s in self.steps if s.status == "done"]
        if done:
            intro += "\n\nAlready done in an earlier attempt of this run:\n" + "\n".join(
                f"- {t}" for t in done
            )
        system = prompts.SYSTEM_EXECUTE
        if rules := project_instructions(self.workspace):
            system += "\n\n" + rules
        return [
            Message(role="system", content=system),
            Message(role="user", content=intro),
        ]

    async def _checkpoint(self, step: PlanStep) -> None:
        """Checkpoint n before step n: plan steps by their number (1-based, as attach shows
        them), then fix/docs steps. A name is never reused: a resumed plan step keeps the mark
        its first segment took, later steps continue after every name earlier segments used."""
        if not self.options.checkpoints:
            return
        n = next((i for i, s in enumerate(self.steps, 1) if s.id == step.id), None)
        if n is not None and str(n) in self.prior.checkpoint_names:
            return  # the step started before the interruption: its "before" mark stands
        if n is None:
            n = max(self.next_checkpoint, len(self.steps) + 1)
        self.next_checkpoint = max(self.next_checkpoint, n + 1)
        if await take_checkpoint(self.stream, self.workspace, self.run_id, n, step.id, step.title):
            self.checkpointed = True

    def _books(self) -> Books:
        return books_of(self.harness.store.reader("run", self.run_id).read())

    async def _finalize(self) -> None:
        if self.checkpointed:
            self.checkpointed = False
            await finalize_checkpoints(self.stream, self.workspace, self.run_id)

    async def _verify(self, tests: list[Any], attempt: int) -> list[VerifyResult]:
        self.phase = "verify"
        self.verify_results = await run_verify(
            self.stream,
            self.tool_ctx,
            HeldPolicy(self.policy, self.holds, self.workspace),
            tests,
            limit_s=self.options.verify_timeout,
            attempt=attempt,
            approve=partial(approve_test, self),
        )
        return self.verify_results

    async def _docs(self) -> None:
        from harness_ls.agent.docs_step import docs_phase

        await docs_phase(self)

    async def _write_summary(self, outcome: str) -> None:
        await write_summary(self, outcome)

    def _totals(self) -> dict[str, Any]:
        """The run's totals: this segment's plus every earlier one's (a resumed run is one)."""
        usage = Usage()
        usage.add(self.prior.usage)
        usage.add(self.usage)
        return {
            "usage": usage.as_dict(),
            "tool_calls": self.prior.tool_calls + self.tool_calls,
            "duration_ms": round(self.prior.duration_ms + ms_since(self.started), 1),
        }
