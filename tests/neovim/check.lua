-- Drives `docklint lsp` from a real editor: attaches the server to the buffer, prints the
-- diagnostics it publishes, applies the quick fix of the first fixable one and writes the
-- buffer to $DOCKLINT_OUT. Exits non-zero when the server publishes nothing, offers no fix,
-- or the fixed diagnostic stays. Written against neovim 0.7 (Debian bookworm); works on
-- later versions.

local function say(line)
  io.stdout:write(line .. "\n")
end

local function fail(why)
  io.stderr:write("FAIL: " .. why .. "\n")
  vim.cmd("cquit 1")
end

local published = nil
local client_id = vim.lsp.start_client({
  name = "docklint",
  cmd = { os.getenv("DOCKLINT"), "lsp" },
  root_dir = vim.fn.getcwd(),
  handlers = {
    ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
      published = result
      vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
    end,
  },
})
if not client_id then
  fail("the server did not start")
end
vim.lsp.buf_attach_client(0, client_id)

local function wait_for_diagnostics()
  return vim.wait(20000, function()
    return published ~= nil
  end, 20)
end

if not wait_for_diagnostics() or #published.diagnostics == 0 then
  fail("neovim saw no diagnostics")
end
local fixable = nil
for _, d in ipairs(published.diagnostics) do
  say(string.format("DIAG %d:%d %s %s", d.range.start.line + 1, d.range.start.character + 1,
    d.code, (d.message:gsub("\n.*", ""))))
  local responses = vim.lsp.buf_request_sync(0, "textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    range = d.range,
    context = { diagnostics = { d }, only = { "quickfix" } },
  }, 10000)
  for _, response in pairs(responses or {}) do
    for _, action in ipairs(response.result or {}) do
      say(string.format("  ACTION %s (kind=%s)", action.title, action.kind))
      if fixable == nil and action.isPreferred then
        fixable = { diagnostic = d, action = action }
      end
    end
  end
end
if fixable == nil then
  fail("no quick fix offered")
end

say("APPLY " .. fixable.action.title)
published = nil
vim.lsp.util.apply_workspace_edit(fixable.action.edit, "utf-16")
if not wait_for_diagnostics() then
  fail("no diagnostics after the fix")
end
for _, d in ipairs(published.diagnostics) do
  if d.code == fixable.diagnostic.code and d.range.start.line == fixable.diagnostic.range.start.line then
    fail("the fixed diagnostic is still there: " .. d.message)
  end
end
say(string.format("AFTER %d diagnostics", #published.diagnostics))
for i, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
  say(string.format("LINE%d %s", i, line))
end
vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, false), os.getenv("DOCKLINT_OUT"))
vim.lsp.stop_client(client_id)
vim.wait(1000, function()
  return vim.lsp.get_client_by_id(client_id) == nil
end, 20)
vim.cmd("qall!")
