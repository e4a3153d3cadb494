-- Headless Neovim: the config from docs/editors/neovim.md (loaded verbatim), a spec with errors,
-- "fix all" and :write; the lens turns into "▶ Run spec" by the server's
-- workspace/codeLens/refresh alone (nothing here calls vim.lsp.codelens.refresh).
-- Usage: nvim --headless --clean -l lens_refresh.lua <doc-config.lua> <spec> <out-json>
local config, spec, out = _G.arg[1], _G.arg[2], _G.arg[3]
local result = { titles = {} }

local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
local function finish(ok, why)
  common.finish(result, out, ok, why)
end

dofile(config)
vim.cmd.edit(vim.fn.fnameescape(spec))
local buf = vim.api.nvim_get_current_buf()
if not vim.wait(15000, function() return #vim.lsp.get_clients({ bufnr = buf, name = "harness_ls" }) > 0 end, 50) then
  return finish(false, "harness_ls did not attach")
end
local client = vim.lsp.get_clients({ bufnr = buf, name = "harness_ls" })[1]
result.refreshes = 0
local handler = client.handlers["workspace/codeLens/refresh"]
client.handlers["workspace/codeLens/refresh"] = function(...)
  result.refreshes = result.refreshes + 1
  return handler(...)
end

local function title()
  local lens = vim.lsp.codelens.get(buf)[1]
  return lens and lens.command and lens.command.title
end
if not vim.wait(15000, function() return title() ~= nil end, 50) then
  return finish(false, "no code lens")
end
result.before = title()
vim.lsp.buf.code_action({ apply = true, context = { only = { "source.fixAll.harness" } } })
if not vim.wait(10000, function() return vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == "# Goal" end, 50) then
  return finish(false, "fix all was not applied")
end
vim.cmd("write")
vim.wait(10000, function() return title() == "▶ Run spec" end, 50)
result.after = title()
finish(true, "done")
