"""harness-ls: a local-first, spec-driven coding agent harness (language server, daemon, CLI)."""

from __future__ import annotations

__version__ = "0.1.0"
