"""Property: for any interleaving of agent tool calls and user edits, revert leaves every path
the user touched as the user last left it and every path only the agent touched as before the run.

Agent, user and initial contents come from disjoint alphabets: an edit that reproduces the other
party's exact bytes is indistinguishable by content, which no snapshot scheme can attribute.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness_ls.workspace import revert

from .attribution_sim import SimRun, git, make_repo

PATHS = ["a.txt", "b.txt", "new.txt", "d/deep.txt"]
INITIAL = {"a.txt": "p-a\n", "b.txt": "p-b\n"}

op = st.tuples(
    st.sampled_from(["agent_write", "agent_delete", "user_write", "user_delete", "step"]),
    st.sampled_from(PATHS),
    st.integers(0, 3),
)


def read(ws: Path, rel: str) -> str | None:
    p = ws / rel
    return p.read_text() if p.exists() else None


def put(ws: Path, rel: str, text: str | None) -> None:
    p = ws / rel
    if text is None:
        p.unlink(missing_ok=True)
        return
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=12))
# the user re-creates a file the agent deleted, then deletes it again: the user's, kept as is
@example([("agent_delete", "a.txt", 0), ("user_write", "a.txt", 0), ("agent_write", "b.txt", 0),
          ("user_delete", "a.txt", 0)])  # fmt: skip
# the same with only a step mark between the re-creation and the delete: the mark saw the file
@example([("agent_delete", "a.txt", 0), ("user_write", "a.txt", 0), ("step", "b.txt", 0),
          ("user_delete", "a.txt", 0)])  # fmt: skip
# ...and with the agent writing a.txt again after it: revert goes back to the user's deletion
@example([("agent_delete", "a.txt", 0), ("user_write", "a.txt", 0), ("agent_write", "b.txt", 1),
          ("user_delete", "a.txt", 0), ("agent_write", "a.txt", 0)])  # fmt: skip
def test_revert_keeps_user_paths_and_restores_agent_only_paths(ops):
    with tempfile.TemporaryDirectory() as t:
        ws = make_repo(Path(t) / "ws", commit=False)
        for rel, text in INITIAL.items():
            put(ws, rel, text)
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "init")
        pre = {p: read(ws, p) for p in PATHS}
        run = SimRun(Path(t) / "data", ws)
        run.start_step(0)
        user_last: dict[str, str | None] = {}
        agent_touched: set[str] = set()
        seen = dict(pre)  # each path as the last snapshot saw it

        def observe() -> None:
            """The user's edits as a snapshot sees them: a path whose user edits net to nothing
            between two snapshots (written, then deleted again) was never observably theirs."""
            for p in PATHS:
                now = read(ws, p)
                if now != seen[p]:
                    user_last[p] = seen[p] = now

        step = 0
        for i, (kind, path, n) in enumerate(ops):
            if kind == "step":
                observe()
                step += 1
                run.start_step(step)
            elif kind.startswith("agent"):
                observe()
                text = None if kind == "agent_delete" else f"agent-{i}-{n}\n"
                # a write_file call re-reads only its own path after the call (its footprint)
                tool, where = ("write_file", path) if text and n % 2 == 0 else ("shell", None)
                run.call(lambda w, p=path, x=text: put(w, p, x), tool, where)
                agent_touched.add(path)
                seen[path] = read(ws, path)
            else:
                text = None if kind == "user_delete" else f"user-{i}-{n}\n"
                put(ws, path, text)
        observe()
        run.finish()
        revert(Path(t) / "data", ws, run.run_id, run.events)
        for path in PATHS:
            if path in user_last:
                assert read(ws, path) == user_last[path], (path, ops)
            elif path in agent_touched:
                assert read(ws, path) == pre[path], (path, ops)
            else:
                assert read(ws, path) == pre[path], (path, ops)
        again = revert(Path(t) / "data", ws, run.run_id, run.events)
        assert not again.applied
