-- Headless Neovim: the config from docs/editors/neovim.md (loaded verbatim), start a run, start
-- it again (refused: the workspace is busy) and record every notification the user sees.
-- Usage: nvim --headless --clean -l command_error.lua <doc-config.lua> <spec> <out-json>
local config, spec, out = _G.arg[1], _G.arg[2], _G.arg[3]
local result = { notified = {} }

local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
vim.notify = function(msg, level)
  table.insert(result.notified, { msg = msg, level = level })
end

local spec_buf, client = common.open_and_run(config, spec)
if not spec_buf then
  return common.finish(result, out, false, client)
end
local function pending() return common.approval(spec_buf) ~= nil end
if not vim.wait(30000, pending, 50) then
  return common.finish(result, out, false, "the first run never asked for its approval")
end
client:exec_cmd(
  { title = "run", command = "harness.runSpec", arguments = { vim.uri_from_bufnr(spec_buf) } },
  { bufnr = spec_buf }
)
-- a bad argument (not in the server range: the handler must still show it)
client:exec_cmd({ title = "cancel", command = "harness.cancelRun", arguments = { 1, 2 } }, { bufnr = spec_buf })
vim.wait(10000, function() return #result.notified >= 2 end, 50)
vim.wait(500) -- would catch a second copy of either
common.finish(result, out, true, "done")
