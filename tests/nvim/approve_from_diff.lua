-- Headless Neovim: the config from docs/editors/neovim.md (loaded verbatim), then run a spec,
-- open the approval's proposed change with the doc's "Show diff" keymap and approve it from
-- there, in the .diff buffer, with the doc's Approve keymap; wait for the run to end.
-- Usage: nvim --headless --clean -l approve_from_diff.lua <doc-config.lua> <spec> <out-json>
local config, spec, out = _G.arg[1], _G.arg[2], _G.arg[3]
local result = { progress = {}, notified = {} }

local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
local function finish(ok, why)
  common.finish(result, out, ok, why)
end
common.record_progress(result)
local notify = vim.notify
vim.notify = function(msg, level)
  table.insert(result.notified, msg)
  return notify(msg, level)
end

local spec_buf, client = common.open_and_run(config, spec)
if not spec_buf then
  return finish(false, client)
end
local function approval() return common.approval(spec_buf) end
if not vim.wait(30000, function() return approval() ~= nil end, 50) then
  return finish(false, "no approval diagnostic in the spec buffer")
end
local function press(lhs)
  local m = vim.fn.maparg(lhs, "n", false, true)
  if not m.callback then return false end
  m.callback()
  return true
end
vim.api.nvim_win_set_cursor(0, { approval().lnum + 1, 0 })
press("<leader>hv")
local function in_diff()
  return vim.api.nvim_buf_get_name(0):match("%.diff$") ~= nil
end
if not vim.wait(10000, in_diff, 50) then
  return finish(false, "Show diff opened no .diff buffer")
end
local diff_buf = vim.api.nvim_get_current_buf()
local attached = function()
  return #vim.lsp.get_clients({ bufnr = diff_buf, name = "harness_ls" }) > 0
end
result.attached = vim.wait(10000, attached, 50)
result.same_client = attached() and vim.lsp.get_clients({ bufnr = diff_buf, name = "harness_ls" })[1].id == client.id
result.clients = #vim.lsp.get_clients({ name = "harness_ls" })
vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(diff_buf), 0 }) -- the diff's last line
if not vim.wait(5000, function() return #vim.fn.maparg("<leader>ha", "n", false, true) > 0 or vim.fn.maparg("<leader>ha", "n", false, true).callback ~= nil end, 50) then
  return finish(false, "no <leader>ha keymap in the diff buffer")
end
press("<leader>ha")
result.end_message = common.wait_end(result)
if not result.end_message then
  return finish(false, "run did not end")
end
finish(true, "done")
