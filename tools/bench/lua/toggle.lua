-- POST, then DELETE, on each path of a file as one signed-in user: favorite_unfavorite
-- (/api/articles/<slug>/favorite) and follow_unfollow (/api/profiles/<username>/follow).
-- args: <file of paths> <token>
-- The sequence is POST on every path, then DELETE on every path, and around again: a POST and the
-- DELETE of the same path are a whole pass apart (1,000 requests for 1,000 paths), far more than
-- the requests in flight, so they never race and every response is a 200. The paths are ones this
-- user had not favorited or followed (benchkit/dataset.py picks them, benchkit/cleanup.py removes
-- what a run leaves).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local requests = {}  -- filled by init()
request = in_order(requests)

function init(args)
   local headers = auth_headers(args[2])
   local paths = read_lines(args[1])
   for _, path in ipairs(paths) do requests[#requests + 1] = wrk.format("POST", path, headers) end
   for _, path in ipairs(paths) do requests[#requests + 1] = wrk.format("DELETE", path, headers) end
end
