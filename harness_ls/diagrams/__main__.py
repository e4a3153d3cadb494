"""`python -m harness_ls.diagrams [dir] [--force] [--check]`: the diagram renderer.

A thin entry over `diagrams.render.main` so `make diagrams` and the CLI run the same code that
`scripts/render-diagrams` ships as a standalone copy. Exit statuses are documented there.
"""

from __future__ import annotations

import sys

from harness_ls.diagrams.render import main

if __name__ == "__main__":
    sys.exit(main())
