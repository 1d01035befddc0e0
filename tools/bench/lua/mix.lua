-- 90/10 read/write: of every 10 requests, 9 are anonymous GETs (the global list and article
-- details from a rotating set, alternately) and 1 is POST /api/articles as a signed-in user.
-- args: <file of article paths> <token> <run id>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local list, details, post_headers, run
local n, d, writes = 0, 0, 0

function init(args)
   list = wrk.format("GET", "/api/articles", {})
   details = {}
   for _, path in ipairs(read_lines(args[1])) do details[#details + 1] = wrk.format("GET", path, {}) end
   post_headers = auth_headers(args[2], {["Content-Type"] = "application/json"})
   run = args[3]
end

function request()
   n = n + 1
   if n % 10 == 0 then
      writes = writes + 1
      return wrk.format("POST", "/api/articles", post_headers, new_article(run, writes))
   elseif n % 2 == 1 then
      return list
   end
   d = d % #details + 1
   return details[d]
end
