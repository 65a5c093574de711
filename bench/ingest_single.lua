-- wrk script: one structured-mode CloudEvent per request, each with a unique id.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
local counter = 0

function init(args)
  token = args[1]
  run = args[2]
  post_as(token, "application/cloudevents+json")
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"specversion":"1.0","id":"single-%s-%d-%d","source":"bench/single","type":"activity.performed",' ..
    '"time":"2025-03-14T09:30:00Z","data":{"user_id":"u-%d","user_email":"u%d@agency.example",' ..
    '"client_id":"c-%d","tool":"blog","action":"blog.post_published"}}',
    run, id, counter, counter % 500, counter % 500, counter % 2000)
  return wrk.format(nil, "/v1/events", nil, body)
end
