"""lsp/features package."""
