-- wrk script: one lead registration per request, each of a new domain, for a random partner
-- (one request in ten for one of ten hot partners, which reach their limit and are refused).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
local counter = 0

function init(args)
  token = args[1]
  run = args[2]
  partners = tonumber(args[3])
  math.randomseed(id * 7919 + os.time())
  post_as(token, "application/json")
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
