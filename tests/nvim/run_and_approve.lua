-- Headless Neovim: the config from docs/editors/neovim.md (loaded verbatim), then run a spec,
-- watch LspProgress, approve the gated write with a code action, and wait for the run to end.
-- Usage: nvim --headless --clean -l run_and_approve.lua <doc-config.lua> <spec> <target-file> <out-json>
local config, spec, target, out = _G.arg[1], _G.arg[2], _G.arg[3], _G.arg[4]
local result = { progress = {} }

local function finish(ok, why)
  result.ok = ok
  result.why = why
  local f = assert(io.open(out, "w"))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd("qall!")
end

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local v = ev.data.params.value
    if type(v) == "table" then
      table.insert(result.progress, { kind = v.kind, title = v.title, message = v.message })
    end
  end,
})

dofile(config)
vim.cmd("edit " .. spec)
local spec_buf = vim.api.nvim_get_current_buf()

if not vim.wait(15000, function() return #vim.lsp.get_clients({ bufnr = spec_buf, name = "harness_ls" }) > 0 end, 50) then
  return finish(false, "harness_ls did not attach")
end
local client = vim.lsp.get_clients({ bufnr = spec_buf, name = "harness_ls" })[1]
vim.wait(300)
client:exec_cmd({ title = "run", command = "harness.runSpec", arguments = { vim.uri_from_bufnr(spec_buf) } }, { bufnr = spec_buf })

local target_buf = vim.uri_to_bufnr(vim.uri_from_fname(target))
local function approval()
  for _, d in ipairs(vim.diagnostic.get(target_buf)) do
    if d.source == "harness" then return d end
  end
end
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
vim.cmd("edit " .. target)
local d = approval()
vim.api.nvim_win_set_cursor(0, { d.lnum + 1, 0 })
vim.lsp.buf.code_action({
  apply = true,
  filter = function(a) return vim.startswith(a.title, "Approve") and not a.title:find("similar") end,
})
local function ended()
  for _, p in ipairs(result.progress) do
    if p.kind == "end" then return p end
  end
end
if not vim.wait(30000, function() return ended() ~= nil end, 50) then
  return finish(false, "run did not end")
end
result.end_message = ended().message
result.cleared = vim.wait(5000, function() return approval() == nil end, 50)
finish(true, "done")
