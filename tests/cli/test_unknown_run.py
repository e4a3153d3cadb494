"""Every verb that takes a run id answers an unknown one with "no run '<id>'" and exit 5."""

from __future__ import annotations

import pytest

RID = "run_01ABCDEFGHJKMNPQRSTVWXYZ99"


@pytest.mark.parametrize(
    "argv",
    [
        ("diff", RID),
        ("diff", "--stat", "--step", "1", RID),
        ("revert", RID),
        ("revert", "--dry-run", RID),
        ("attach", RID),
        ("approve", "--step", "st_x", RID),
        ("export", "--out", "x.zip", RID),
        ("cancel", RID),
    ],
)
def test_unknown_run_is_not_found_on_every_verb(daemon, workspace, argv):
    proc = daemon.cli(*argv, cwd=workspace)
    assert proc.returncode == 5, (argv, proc.stdout, proc.stderr)
    assert f"no run '{RID}'" in proc.stderr, (argv, proc.stderr)
    assert "Traceback" not in proc.stderr


def test_revert_refuses_a_run_that_is_still_going(daemon, workspace, tmp_path):
    from tests.cli.conftest import DOCS, DONE, PLAN, WRITE, ok, script

    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    run_id = ok(daemon.cli("run", "--workspace", ".", "--spec", "specs/greet/spec.md",
                           "--model", model, cwd=workspace)).stdout.strip()  # fmt: skip
    approval = daemon.wait_approval(run_id)
    busy = daemon.cli("revert", run_id, cwd=workspace)
    assert busy.returncode == 6 and "is still waiting approval" in busy.stderr, busy.stderr
    assert f"agentctl cancel {run_id}" in busy.stderr
    ok(daemon.cli("revert", "--dry-run", run_id, cwd=workspace))  # looking is fine
    ok(daemon.cli("approve", "--step", approval["id"], run_id, cwd=workspace))
