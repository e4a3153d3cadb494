-- Headless Neovim: the config from docs/editors/neovim.md (loaded verbatim), then run a spec,
-- watch LspProgress, approve the gated write with a code action, and wait for the run to end.
-- Usage: nvim --headless --clean -l run_and_approve.lua <doc-config.lua> <spec> <target-file> <out-json>
local config, spec, target, out = _G.arg[1], _G.arg[2], _G.arg[3], _G.arg[4]
local result = { progress = {} }

local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
local function finish(ok, why)
  common.finish(result, out, ok, why)
end
common.record_progress(result)
common.record_echo(result)

local spec_buf, client = common.open_and_run(config, spec)
if not spec_buf then
  return finish(false, client)
end

local target_buf = vim.uri_to_bufnr(vim.uri_from_fname(target))
local function approval() return common.approval(target_buf) end
if not vim.wait(30000, function() return approval() ~= nil end, 50) then
  return finish(false, "no approval diagnostic")
end
result.approval_message = approval().message
-- the same approval sits in the spec buffer, on the line of the plan step that asked
-- (each buffer pulls its own diagnostics: wait for the spec's, it may come after the target's)
vim.wait(10000, function()
  for _, d in ipairs(vim.diagnostic.get(spec_buf)) do
    if d.source == "harness" then result.spec_approval_line = d.lnum end
  end
  return result.spec_approval_line ~= nil
end, 50)
vim.cmd.edit(vim.fn.fnameescape(target))
-- the doc config's root_dir attaches on the next tick, as a person's keypress would come later
vim.wait(10000, function()
  return #vim.lsp.get_clients({ bufnr = 0, name = "harness_ls" }) > 0
end, 20)
local d = approval()
vim.api.nvim_win_set_cursor(0, { d.lnum + 1, 0 })
vim.lsp.buf.code_action({
  apply = true,
  filter = function(a) return vim.startswith(a.title, "Approve") and not a.title:find("similar") end,
})
result.end_message = common.wait_end(result)
if not result.end_message then
  return finish(false, "run did not end")
end
result.cleared = vim.wait(5000, function() return approval() == nil end, 50)
finish(true, "done")
