-- wrk script of the fleet benchmark (bench/fleet/api.py): one home's latest 100 readings, a random home
-- of the fleet each time. One thread per connection, each with its own coordinator token (a line of
-- $BENCH_TOKENS); the homes are the lines of $BENCH_HOMES.

local tokens = {}
local homes = {}
local started = 0

function setup(thread)
  if #tokens == 0 then
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
      if line ~= "" then tokens[#tokens + 1] = line end
    end
  end
  thread:set("token", tokens[started % #tokens + 1])
  thread:set("seed", started)
  started = started + 1
end

local headers

function init(args)
  headers = { ["Authorization"] = "Bearer " .. token }
  for line in io.lines(os.getenv("BENCH_HOMES")) do
    if line ~= "" then homes[#homes + 1] = line end
  end
  math.randomseed(seed + os.time())
end

function request()
  local home = homes[math.random(#homes)]
  return wrk.format("GET", "/v1/homes/" .. home .. "/readings?limit=100", headers)
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"non_2xx":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
