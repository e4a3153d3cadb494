-- Headless Neovim: open a spec, wait for harness-ls diagnostics, apply a quick fix, report JSON.
-- Usage: nvim --headless --clean -l lint_and_fix.lua <server-cmd-json> <spec-path> <out-json>
local server_cmd = vim.json.decode(_G.arg[1])
local spec = _G.arg[2]
local out = _G.arg[3]
local result = { events = {} }

local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
local function finish(ok, why)
  common.finish(result, out, ok, why)
end

vim.lsp.config("harness_ls", {
  cmd = server_cmd,
  filetypes = { "markdown" },
  root_markers = { ".git", "specs" },
})
vim.lsp.enable("harness_ls")

vim.cmd.edit(vim.fn.fnameescape(spec))

local function diags()
  return vim.diagnostic.get(0)
end

local function wait(pred, ms)
  return vim.wait(ms or 10000, pred, 50)
end

if not wait(function() return #vim.lsp.get_clients({ bufnr = 0 }) > 0 end) then
  return finish(false, "client did not attach")
end
if not wait(function() return #diags() > 0 end) then
  return finish(false, "no diagnostics")
end
vim.wait(500) -- would catch a duplicate push after the pull
result.initial = {}
for _, d in ipairs(diags()) do
  table.insert(result.initial, { code = d.code, lnum = d.lnum, msg = d.message })
end

-- Apply preferred quick fixes one by one until the buffer is clean.
for _ = 1, 6 do
  local ds = diags()
  if #ds == 0 then break end
  local d = ds[1]
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
  local before = vim.b.changedtick
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(a) return a.isPreferred == true end,
    range = { start = { d.lnum + 1, d.col }, ["end"] = { d.end_lnum + 1, d.end_col } },
  })
  wait(function() return vim.b.changedtick ~= before end, 5000)
  -- pull diagnostics refresh after the change
  wait(function()
    local now = diags()
    return #now < #ds or (#now > 0 and now[1].lnum ~= d.lnum)
  end, 5000)
end
vim.wait(300)
result.final = #diags()
result.text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
finish(result.final == 0, "done")
