"""The HTTP app's typed view of the harness (http/host.py) is what the core provides."""

from __future__ import annotations

import inspect
from pathlib import Path

from harness_ls.core import Harness
from harness_ls.http.host import HarnessHost


def test_the_core_harness_is_a_harness_host(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "data")
    assert isinstance(harness, HarnessHost)
    for name, member in vars(HarnessHost).items():
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        real = getattr(Harness, name)
        assert inspect.iscoroutinefunction(real) == inspect.iscoroutinefunction(member), name
        wanted = set(inspect.signature(member).parameters) - {"kwargs"}
        assert wanted <= set(inspect.signature(real).parameters), name
