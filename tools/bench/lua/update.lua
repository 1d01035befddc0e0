-- PUT /api/user as one signed-in user, changing only the bio (unique per request).
-- args: <token> <run id>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local headers, run
local n = 0

function init(args)
   headers = auth_headers(args[1], {["Content-Type"] = "application/json"})
   run = args[2]
end

function request()
   n = n + 1
   return wrk.format("PUT", "/api/user", headers, new_bio(run, n))
end
