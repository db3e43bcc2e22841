-- wrk script: sends the bench cookie (BENCH_COOKIE) and the proxy header, and
-- prints one JSON line of results at the end (parsed by run.sh).
local cookie = os.getenv("BENCH_COOKIE")

wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["Accept-Language"] = "zh-hans"
if cookie and cookie ~= "" and cookie ~= "-" then
  wrk.headers["Cookie"] = cookie
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.2f, "rps": %.1f, ' ..
    '"p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f, ' ..
    '"non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
