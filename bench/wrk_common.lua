-- What the wrk scripts share (each loads this file with dofile): threads numbered from 1 in the
-- global `id`, authorised POSTs, and the figures printed as the one WRK_JSON line load.wrk reads.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function post_as(token, content_type)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = content_type
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.timeout,
    summary.errors.connect, summary.errors.read, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
