-- wrk script for bench/serve_harness.py: POSTs to $PREDICT_PATH, in turn,
-- the bodies listed in the file named by $BODY_LIST, and prints the figures
-- as one JSON line at the end.
--
-- Each line of $BODY_LIST is a file sent as one request's body (an image
-- for /predictions, a prepared v2 infer body), optionally followed by
-- tab-separated "Name: value" headers for that body alone (the v2
-- binary-data extension's Inference-Header-Content-Length differs per
-- image). Content-Type is $CONTENT_TYPE, else application/octet-stream.
local target = os.getenv("PREDICT_PATH")
local content_type = os.getenv("CONTENT_TYPE") or "application/octet-stream"
local bodies = {}
for line in io.lines(os.getenv("BODY_LIST")) do
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    fields[#fields + 1] = field
  end
  local headers = { ["Content-Type"] = content_type }
  for k = 2, #fields do
    local name, value = string.match(fields[k], "^([^:]+):%s*(.*)$")
    assert(name, "BODY_LIST: not a 'Name: value' header: " .. fields[k])
    headers[name] = value
  end
  local f = assert(io.open(fields[1], "rb"))
  bodies[#bodies + 1] = { headers = headers, body = f:read("*a") }
  f:close()
end
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 7
end

-- The requests are formatted once per thread, here rather than at load:
-- wrk.init sets the Host header just before calling init. Formatting each
-- request anew would cost the client a copy of the body per request, CPU
-- taken from the server on a small machine.
local requests = {}

function init(args)
  i = offset or 0
  for k, b in ipairs(bodies) do
    requests[k] = wrk.format("POST", target, b.headers, b.body)
  end
  bodies = nil
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
