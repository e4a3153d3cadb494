-- Headless Neovim: the config from docs/editors/neovim.md (loaded verbatim), a spec buffer with
-- the doc's `foldexpr=v:lua.vim.lsp.foldexpr()`, and the fold level of each line as JSON.
-- Usage: nvim --headless --clean -l fold.lua <doc-config.lua> <spec> <out-json>
local config, spec, out = _G.arg[1], _G.arg[2], _G.arg[3]
local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
local result = {}
dofile(config)
vim.cmd.edit(vim.fn.fnameescape(spec))
local buf = vim.api.nvim_get_current_buf()
if not vim.wait(15000, function() return #vim.lsp.get_clients({ bufnr = buf, name = "harness_ls" }) > 0 end, 50) then
  return common.finish(result, out, false, "harness_ls did not attach")
end
vim.cmd("setlocal foldmethod=expr foldexpr=v:lua.vim.lsp.foldexpr()")
local folded = vim.wait(10000, function() return vim.fn.foldlevel(1) > 0 end, 50)
result.levels = {}
for line = 1, vim.api.nvim_buf_line_count(buf) do
  table.insert(result.levels, vim.fn.foldlevel(line))
end
common.finish(result, out, folded, folded and "done" or "no folds")
