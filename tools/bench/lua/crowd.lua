-- Many users, one path: POST by each user in turn, then DELETE by each, and around again:
-- hot_favorite (/api/articles/<slug>/favorite) and hot_follow (/api/profiles/<username>/follow).
-- args: <path> <file of tokens, one user each>
-- With 256 users, a user's POST and DELETE are 256 requests apart, far more than the requests in
-- flight, so they never race and every response is a 200; meanwhile every request updates the
-- same counter row (the article's favorites_count, the author's followers_count).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local requests = {}  -- filled by init()
request = in_order(requests)

function init(args)
   local path = args[1]
   local tokens = read_lines(args[2])
   for _, token in ipairs(tokens) do
      requests[#requests + 1] = wrk.format("POST", path, auth_headers(token))
   end
   for _, token in ipairs(tokens) do
      requests[#requests + 1] = wrk.format("DELETE", path, auth_headers(token))
   end
end
