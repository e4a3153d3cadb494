"""Every verb that takes a run id answers an unknown one with "no run '<id>'" and exit 5."""

from __future__ import annotations

import pytest

RID = "run_01ABCDEFGHJKMNPQRSTVWXYZ99"


@pytest.mark.parametrize(
    "argv",
    [
        ("diff", RID),
        ("diff", "--stat", "--step", "0", RID),
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
