"""LSP features: one capability per module, registered by harness_ls.lsp.server."""
