"""`[executor]` in config.toml and agentd's flags: defaults, overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_ls.errors import InvalidInput
from harness_ls.executor.config import load_settings


def test_default_is_in_process_and_flags_win_over_the_file(tmp_path: Path) -> None:
    assert load_settings(tmp_path).kind == "local"
    (tmp_path / "config.toml").write_text('[executor]\nkind = "ray"\nnum_cpus = 2\n')
    s = load_settings(tmp_path)
    assert (s.kind, s.num_cpus, s.address) == ("ray", 2.0, None)
    assert load_settings(tmp_path, kind="local").kind == "local"
    s = load_settings(tmp_path, address="10.0.0.5:6379")
    assert (s.kind, s.address) == ("ray", "10.0.0.5:6379")


def test_a_bad_executor_table_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[executor]\nkind = "k8s"\nnum_cpu = 1\n')
    with pytest.raises(InvalidInput) as err:
        load_settings(tmp_path)
    assert "kind" in err.value.message and "num_cpu" in err.value.message
    assert "docs/scale-out.md" in (err.value.hint or "")


async def test_branch_without_the_ray_executor_is_refused(tmp_path: Path) -> None:
    from harness_ls.core import Harness

    from .conftest import make_repo

    repo = make_repo(tmp_path)
    h = Harness(tmp_path / "data")
    await h.start()
    try:
        with pytest.raises(InvalidInput, match="--branch needs the Ray executor"):
            await h.start_run(str(repo), "specs/greet/spec.md", branch=True)
    finally:
        await h.close()
