-- wrk script for scenario 5: each request opens a ticket through the portal's
-- new-ticket form (multipart; bench/run.sh puts the session's CSRF token in
-- place of @CSRF@). Every request has its own submission key, so none is
-- taken for a double submission.
local boundary = "chamado-bench-boundary"
local counter = 0
local thread_id = 0
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

function init(args)
  thread_id = tonumber(wrk.thread:get("thread_id")) or 0
end

local function field(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n"
    .. value .. "\r\n"
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary

function request()
  counter = counter + 1
  local key = string.format("%08x%08x%016x", os.time() % 0xffffffff, thread_id, counter)
  local body = field("csrf_token", "@CSRF@")
    .. field("submission_key", key)
    .. field("organization", "1")
    .. field("ticket_type", "support")
    .. field("subject", "Pedido de teste de carga " .. thread_id .. "-" .. counter)
    .. field("description", "Aberto pelo benchmark de carga do Chamado.")
    .. "--" .. boundary .. "--\r\n"
  return wrk.format(nil, nil, nil, body)
end
