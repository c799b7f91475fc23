-- wrk script of the API benchmark (bench/api/__main__.py): GET /v1/alerts pages of 50, every other request
-- following the previous page's cursor. wrk runs one thread per connection here, so each thread's Lua
-- state is one client: its own coordinator token (a line of $BENCH_TOKENS) and its own cursor. The visits
-- benchmark (bench/visits/load.py) drives its board with it too, through $BENCH_PATH (a listing's path
-- and query; default the alerts'), and the ceiling (/health, which has no cursor).

local tokens = {}
local started = 0

function setup(thread)
  if #tokens == 0 then
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
      if line ~= "" then tokens[#tokens + 1] = line end
    end
  end
  thread:set("token", tokens[started % #tokens + 1])
  thread:set("path", os.getenv("BENCH_PATH") or "/v1/alerts?limit=50")
  started = started + 1
end

local headers
local cursor = nil

function init(args)
  headers = { ["Authorization"] = "Bearer " .. token }
end

function request()
  local url = path
  if cursor then url = url .. "&cursor=" .. cursor end
  return wrk.format("GET", url, headers)
end

function response(status, _, body)
  -- Follow the cursor once, then start from the first page again.
  if status ~= 200 or cursor then
    cursor = nil
  else
    cursor = string.match(body, '"next_cursor":"([^"]+)"')
  end
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"non_2xx":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
