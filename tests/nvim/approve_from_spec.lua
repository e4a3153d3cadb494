-- Headless Neovim: the config from docs/editors/neovim.md (loaded verbatim), then run a spec and
-- act on the approval from the SPEC buffer with the doc's keymaps: "Show diff" (window/showDocument
-- opens the proposed change), then "Approve", code actions on the plan step's line; wait for the end.
-- Usage: nvim --headless --clean -l approve_from_spec.lua <doc-config.lua> <spec> <out-json>
local config, spec, out = _G.arg[1], _G.arg[2], _G.arg[3]
local result = { progress = {} }

local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
local function finish(ok, why)
  common.finish(result, out, ok, why)
end
common.record_progress(result)

local spec_buf, client = common.open_and_run(config, spec)
if not spec_buf then
  return finish(false, client)
end

local function approval() return common.approval(spec_buf) end
if not vim.wait(30000, function() return approval() ~= nil end, 50) then
  return finish(false, "no approval diagnostic in the spec buffer")
end
local d = approval()
result.spec_approval_line = d.lnum
result.approval_message = d.message

-- press the documented keymap (a code action under the cursor) on the plan step's line
local function act(lhs)
  vim.api.nvim_set_current_buf(spec_buf)
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, 0 })
  local m = vim.fn.maparg(lhs, "n", false, true)
  if not m.callback then return finish(false, "no keymap " .. lhs .. " in the doc config") end
  m.callback()
end

-- 1. Show diff (<leader>hv): the server writes <data>/diffs/<id>.diff and asks us to open it
act("<leader>hv")
local function diff_buf()
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.api.nvim_buf_get_name(b):match("%.diff$") then return b end
  end
end
if not vim.wait(10000, function() return diff_buf() ~= nil end, 50) then
  return finish(false, "Show diff opened no .diff buffer")
end
local b = diff_buf()
result.diff_path = vim.api.nvim_buf_get_name(b)
result.diff_focused = vim.api.nvim_get_current_buf() == b
result.diff_text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), "\n")

-- 2. Approve (<leader>ha), still from the spec buffer
act("<leader>ha")
result.end_message = common.wait_end(result)
if not result.end_message then
  return finish(false, "run did not end")
end
result.cleared = vim.wait(5000, function() return approval() == nil end, 50)
finish(true, "done")
