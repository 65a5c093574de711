-- wrk script: one structured-mode CloudEvent per request, each with a unique id.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
  token = args[1]
  run = args[2]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/cloudevents+json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"specversion":"1.0","id":"single-%s-%d-%d","source":"bench/single","type":"activity.performed",' ..
    '"time":"2025-03-14T09:30:00Z","data":{"user_id":"u-%d","user_email":"u%d@agency.example",' ..
    '"client_id":"c-%d","tool":"blog","action":"blog.post_published"}}',
    run, thread_id, counter, counter % 500, counter % 500, counter % 2000)
  return wrk.format(nil, "/v1/events", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"errors_connect":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.timeout,
    summary.errors.connect, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
