-- wrk script for bench/serve_bench.py: POSTs the images listed in the file
-- named by $IMAGE_LIST to $PREDICT_PATH in turn, and prints the figures as
-- one JSON line at the end.
local bodies = {}
for path in io.lines(os.getenv("IMAGE_LIST")) do
  local f = assert(io.open(path, "rb"))
  bodies[#bodies + 1] = f:read("*a")
  f:close()
end
local target = os.getenv("PREDICT_PATH")
local headers = { ["Content-Type"] = "application/octet-stream" }
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 7
end

function init(args)
  i = offset or 0
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", target, headers, bodies[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
