-- Shared by the bench's wrk scripts (loaded with dofile). Each thread tallies the answers it got:
-- how many had the expected status, which statuses came back, how many nginx answered from its
-- cache (X-Cache-Status), and the database queries the app reported in X-Bench-Queries for the
-- others (a cached answer repeats the header of the answer it copies). done() adds the threads up
-- and prints one JSON line for run.py.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

expected = 200
ok = 0
bad = 0
queries = 0
counted = 0
with_queries = 0
from_cache = 0
statuses = {}

local CACHED = {HIT = true, STALE = true, UPDATING = true}

function response(status, headers, body)
  if status == expected then ok = ok + 1 else bad = bad + 1 end
  statuses[status] = (statuses[status] or 0) + 1
  if CACHED[headers["X-Cache-Status"]] then
    from_cache = from_cache + 1
    return
  end
  local q = tonumber(headers["X-Bench-Queries"])
  if q then
    counted = counted + 1
    queries = queries + q
    if q > 0 then with_queries = with_queries + 1 end
  end
end

function done(summary, latency, requests)
  local total = {ok = 0, bad = 0, queries = 0, counted = 0, with_queries = 0, from_cache = 0}
  local codes = {}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do total[key] = total[key] + thread:get(key) end
    for code, n in pairs(thread:get("statuses")) do codes[code] = (codes[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%d":%d', code, n)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"queries":%d,"counted":%d,' ..
    '"with_queries":%d,"from_cache":%d,"statuses":{%s},"socket_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, total.ok, total.bad, total.queries, total.counted,
    total.with_queries, total.from_cache, table.concat(parts, ","), e.connect + e.read + e.write,
    e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
