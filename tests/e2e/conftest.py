"""Fixtures for the end-to-end suite (helpers live in tests/e2e/helpers.py)."""

from __future__ import annotations

from tests.e2e.helpers import procs  # noqa: F401 - re-exported fixture
