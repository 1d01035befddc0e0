-- done(): one machine-readable line after wrk's own report, read by tools/bench/bench.py.
--   BENCH_RESULT {"requests": ..., "duration_s": ..., "requests_per_s": ..., "bytes": ...,
--                 "latency_ms": {"p50", "p95", "p99", "mean", "max"},
--                 "errors": {"connect", "read", "write", "timeout", "status"}}
-- wrk measures latency in microseconds; it is reported here in milliseconds. "status" is wrk's
-- own count of responses with an HTTP status above 399 (no response() callback is defined, so
-- wrk never hands headers or bodies to Lua: that would cost generator CPU on every request).
function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   local function ms(us) return us / 1000.0 end
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_s": %.6f, "requests_per_s": %.2f, "bytes": %d, '
      .. '"latency_ms": {"p50": %.3f, "p95": %.3f, "p99": %.3f, "mean": %.3f, "max": %.3f}, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}\n',
      summary.requests, seconds, seconds > 0 and summary.requests / seconds or 0, summary.bytes,
      ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)),
      ms(latency.mean), ms(latency.max),
      e.connect, e.read, e.write, e.timeout, e.status))
end
