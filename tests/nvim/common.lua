-- Shared by the headless Neovim scripts: write the JSON result and quit, record $/progress,
-- and open a spec with the doc's config and start a run on it.
-- Load with: local common = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "common.lua"))
local M = {}

--- finish(result, out, ok, why): write `result` (with ok/why) as JSON to `out` and quit.
function M.finish(result, out, ok, why)
  result.ok = ok
  result.why = why
  local f = assert(io.open(out, "w"))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd("qall!")
end

--- Record every $/progress value into result.progress.
function M.record_progress(result)
  result.progress = result.progress or {}
  vim.api.nvim_create_autocmd("LspProgress", {
    callback = function(ev)
      local v = ev.data.params.value
      if type(v) == "table" then
        table.insert(
          result.progress,
          { kind = v.kind, title = v.title, message = v.message, percentage = v.percentage }
        )
      end
    end,
  })
end

--- Record what the doc's config echoes (its LspProgress lines) into result.echoed.
function M.record_echo(result)
  result.echoed = result.echoed or {}
  local echo = vim.api.nvim_echo
  vim.api.nvim_echo = function(chunks, history, opts)
    local text = ""
    for _, chunk in ipairs(chunks) do text = text .. chunk[1] end
    table.insert(result.echoed, text)
    return echo(chunks, history, opts)
  end
end

--- Load the doc's config, open `spec`, wait for harness_ls and run the spec.
--- Returns spec_buf, client; or nil, why.
function M.open_and_run(config, spec)
  dofile(config)
  vim.cmd.edit(vim.fn.fnameescape(spec))
  local spec_buf = vim.api.nvim_get_current_buf()
  local attached = function()
    return #vim.lsp.get_clients({ bufnr = spec_buf, name = "harness_ls" }) > 0
  end
  if not vim.wait(15000, attached, 50) then
    return nil, "harness_ls did not attach"
  end
  local client = vim.lsp.get_clients({ bufnr = spec_buf, name = "harness_ls" })[1]
  vim.wait(300)
  client:exec_cmd(
    { title = "run", command = "harness.runSpec", arguments = { vim.uri_from_bufnr(spec_buf) } },
    { bufnr = spec_buf }
  )
  return spec_buf, client
end

--- The harness approval diagnostic in `buf`, or nil.
function M.approval(buf)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == "harness" then return d end
  end
end

--- Wait (30 s at most) for the run's $/progress end; its message, or nil.
function M.wait_end(result)
  local function ended()
    for _, p in ipairs(result.progress) do
      if p.kind == "end" then return p end
    end
  end
  if vim.wait(30000, function() return ended() ~= nil end, 50) then
    return ended().message
  end
end

return M
