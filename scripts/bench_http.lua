-- wrk script for scripts/bench_http.py.
--
--   wrk -t1 -c1 -d3s -s scripts/bench_http.lua http://127.0.0.1:PORT -- /path [/path ...]
--
-- Requests the paths given after "--" in turn (one path: that page; several: a round-robin
-- over pages), counts every response that is not a 2xx (a redirect to the log-in page is
-- one: the session was lost), and prints one JSON line in done(): requests, seconds,
-- requests per second, latency percentiles in milliseconds, non-2xx responses (with the
-- first status seen) and socket errors.

local pending = {}
local next_index = 0
local threads = {}

bad = 0 -- per thread: read back from each thread's state in done()
first_bad = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for _, path in ipairs(args) do
    table.insert(pending, wrk.format(nil, path))
  end
  if #pending == 0 then
    table.insert(pending, wrk.format())
  end
end

function request()
  next_index = next_index % #pending + 1
  return pending[next_index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if first_bad == 0 then
      first_bad = status
    end
  end
end

function done(summary, latency, requests)
  local non2xx, status = 0, 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + thread:get("bad")
    if status == 0 then
      status = thread:get("first_bad")
    end
  end
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50": %.2f, "p95": %.2f, "p99": %.2f, '
      .. '"max": %.2f, "non2xx": %d, "first_non2xx_status": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    non2xx, status, errors.connect + errors.read + errors.write + errors.timeout
  ))
end
