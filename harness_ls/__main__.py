"""`python -m harness_ls` runs the language server, like the `harness-ls` script."""

from __future__ import annotations

from harness_ls.lsp.main import main

if __name__ == "__main__":
    raise SystemExit(main())
