"""Localization: the model picks the files to edit from the ranked map before excerpts are cut.

An optional second pass over the context (Agentless-style): the ranking's top files, with their
definitions, go to the run's model in one short request; it answers a JSON list of paths, and
the context is then built with those files first (`build_context(prefer=...)`), so a truth file
the heuristics ranked low still gets its excerpt. The answer is hostile input: only paths that
were in the map shown are kept (so never a spec, `.harness/`, `.env` or a path outside the
workspace), at most MAX_PICKS of them; a malformed answer, a model error or a timeout falls back
to the plain ranking with a note. Never fails the run. Recorded as `context.localized`.

On by default when the run has a model; off with `[context] localize = false` in the user's
`<data dir>/config.toml` or `Harness.options.localize = False`. Skipped (no request) when the
map has fewer than MIN_FILES files: the excerpts already cover nearly every file then.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import tomllib
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAP_TOKENS = 3000  # the map shown to the model
TASK_CHARS = 6000  # of the task (goal + spec) shown with it
MIN_FILES = 12  # fewer files in the map: nothing to choose, no request
MAX_PICKS = 5
MAX_ANSWER_TOKENS = 400
TIMEOUT_S = 60.0  # the whole pass, retries included
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)

PROMPT = """You are locating the files a code change must edit, before anyone reads them.

Task:
{task}

Repository map (files ranked by a heuristic, best first; each with `line: definition`):
{map}

Answer with only a JSON list of the file paths from the map that most likely need editing, most
likely first, at most {max_picks}, e.g. ["src/app/models.py", "src/app/views.py"]. Use paths
exactly as written in the map. No prose."""


@dataclass
class Localization:
    """What the pass decided: the picks (empty = plain ranking) and why, for the event."""

    picked: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    note: str | None = None
    usage: Any = None  # agent.turn.Usage of the request, when one was made
    candidates: int = 0  # files in the map the model was shown
    duration_ms: float = 0.0

    def event_data(self) -> dict[str, Any]:
        """The `context.localized` event (and `agentctl context --localize --json`)."""
        from harness_ls.models import mask_secrets

        data: dict[str, Any] = {
            "picked": self.picked,
            "rejected": [mask_secrets(r) for r in self.rejected],
            "candidates": self.candidates,
            "fallback": not self.picked,
            "duration_ms": self.duration_ms,
        }
        if self.note:
            data["note"] = self.note + ("; using the plain ranking" if not self.picked else "")
        if self.usage is not None:
            data["usage"] = self.usage.as_dict()
        return data


def enabled(data_dir: Path | None, option: bool | None) -> bool:
    """`option` (Harness.options.localize) wins; else `[context] localize` of the user
    config; else on. An unreadable config leaves it on (hooks and MCP report that file)."""
    if option is not None:
        return bool(option)
    if data_dir is None:
        return True
    try:
        raw = tomllib.loads((Path(data_dir) / "config.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    section = raw.get("context")
    value = section.get("localize", True) if isinstance(section, dict) else True
    return value if isinstance(value, bool) else True


def parse_picks(text: str, shown: list[str]) -> tuple[list[str], list[str]]:
    """(accepted, rejected) paths from the answer: a JSON list of strings, or {"files": [...]},
    optionally fenced. Accepted: in `shown` (the map), deduplicated, in the answer's order
    (the caller keeps MAX_PICKS). Raises ValueError when the answer is not such JSON."""
    raw = text.strip()
    if m := _FENCE.search(raw):
        raw = m.group(1).strip()
    start = min((i for i in (raw.find("["), raw.find("{")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("the answer has no JSON list")
    try:
        data, _ = json.JSONDecoder().raw_decode(raw[start:])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc.msg})") from None
    if isinstance(data, dict):
        data = data.get("files", data.get("paths"))
    if not isinstance(data, list) or not all(isinstance(p, str) for p in data):
        raise ValueError("the answer is not a JSON list of paths")
    allowed = set(shown)
    accepted: list[str] = []
    rejected: list[str] = []
    for item in data[:50]:
        rel = item.strip().strip("`").removeprefix("./")
        if rel in allowed and rel not in accepted:
            accepted.append(rel)
        elif rel not in allowed:
            rejected.append(item[:200])
    return accepted, rejected[:10]


async def run_picks(engine: Any, task: str, exclude: list[str]) -> list[str]:
    """The run's localization: its picks ([] = plain ranking), the request's tokens added to
    the run's usage. Not asked when context or localization is off or the run is offline."""
    opts = engine.options
    if opts.context_tokens <= 0 or engine.offline_reason:
        return []
    if not enabled(engine.harness.data_dir, opts.localize):
        return []
    loc = await localize(
        engine.resolved, engine.workspace, task, engine.harness.data_dir, exclude, engine.stream
    )
    if loc is None:
        return []
    await engine.stream.append("context.localized", loc.event_data())
    if loc.usage is not None:
        engine.usage.add(loc.usage)
    return loc.picked


async def localize(
    resolved: Any,
    workspace: Path,
    task: str,
    data_dir: Path | None,
    exclude: list[str],
    stream: Any = None,
) -> Localization | None:
    """Ask the model which files of the ranked map the task edits; None when skipped without
    a request (no map, or too small to choose from). Retries go to `stream` as `model.retry`
    when given. Never raises."""
    from harness_ls.context import build_context

    started = time.monotonic()
    try:
        shown = await asyncio.to_thread(
            build_context, workspace, task, MAP_TOKENS,
            data_dir=data_dir, excerpts=False, exclude=exclude,
        )  # fmt: skip
    except Exception:  # noqa: BLE001 - the context build that follows reports it
        return None
    if len(shown.files) < MIN_FILES:
        return None
    try:
        loc = await asyncio.wait_for(_ask(stream, resolved, task, shown), TIMEOUT_S)
    except TimeoutError:
        loc = Localization(note=f"the model did not answer within {TIMEOUT_S:.0f} s")
    except Exception as exc:  # noqa: BLE001 - a model error only costs the localization
        why = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
        loc = Localization(note=f"the localization request failed: {why}")
    loc.candidates = len(shown.files)
    loc.duration_ms = round((time.monotonic() - started) * 1000, 1)
    return loc


async def _ask(stream: Any, resolved: Any, task: str, shown: Any) -> Localization:
    from harness_ls.agent.turn import Usage, retries_recorded
    from harness_ls.models import Message, mask_secrets

    cut = task[:TASK_CHARS] + ("\n[… cut]" if len(task) > TASK_CHARS else "")
    prompt = PROMPT.format(task=cut, map=mask_secrets(shown.map_text), max_picks=MAX_PICKS)
    with retries_recorded(stream, None) if stream is not None else nullcontext():
        completion = await resolved.provider.complete(
            resolved.info.id,
            [Message(role="user", content=prompt)],
            max_tokens=MAX_ANSWER_TOKENS,
        )
    usage = Usage.of_call(completion.usage)
    try:
        picked, rejected = parse_picks(completion.text, shown.files)
    except ValueError as exc:
        return Localization(note=str(exc), usage=usage)
    note = None
    if not picked:
        note = "the model picked no file from the map"
    elif len(picked) > MAX_PICKS:
        note = f"kept the first {MAX_PICKS} of the {len(picked)} files the model picked"
    return Localization(picked[:MAX_PICKS], rejected, note, usage)
