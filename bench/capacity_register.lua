-- wrk script: one lead registration per request, each of a new domain, for a random partner
-- (one request in ten for one of ten hot partners, which reach their limit and are refused).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  run = args[2]
  partners = tonumber(args[3])
  math.randomseed(id * 7919 + os.time())
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local partner
  if math.random() < 0.1 then
    partner = math.random(0, 9)
  else
    partner = math.random(0, partners - 1)
  end
  local body = string.format(
    '{"website":"https://www.lead-%d-%d-%s.com/pricing","company":"Lead %d",' ..
    '"contact_name":"Ana Example","country":"DE"}', id, counter, run, counter)
  return wrk.format(nil, string.format("/v1/partners/%s-p-%d/registrations", run, partner), nil, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.timeout,
    summary.errors.connect, summary.errors.read, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
