-- Favorite, then unfavorite, as one signed-in user. args: <file of slugs> <token>
-- The sequence is POST on every slug, then DELETE on every slug, and around again: a POST and the
-- DELETE of the same article are a whole pass apart (1,000 requests for 1,000 slugs), far more
-- than the requests in flight, so they never race and every response is a 200. The slugs are
-- articles this user had not favorited (bench.py picks them and removes leftovers afterwards).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local requests = {}
local i = 0

function init(args)
   local headers = auth_headers(args[2])
   local slugs = read_lines(args[1])
   for _, slug in ipairs(slugs) do
      requests[#requests + 1] = wrk.format("POST", "/api/articles/" .. slug .. "/favorite", headers)
   end
   for _, slug in ipairs(slugs) do
      requests[#requests + 1] = wrk.format("DELETE", "/api/articles/" .. slug .. "/favorite", headers)
   end
end

function request()
   i = i % #requests + 1
   return requests[i]
end
