"""`agentctl`: the CLI client (placeholder until the CLI issue lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("agentctl: not available yet in this build (see README: the CLI lands with issue 8)", file=sys.stderr)
    return 2
