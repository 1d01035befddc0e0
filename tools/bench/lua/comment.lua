-- POST /api/articles/<slug>/comments as one signed-in user over a rotating set of articles, a
-- unique body per request. args: <file of comment paths> <token> <run id>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local paths, headers, run
local n = 0

function init(args)
   paths = read_lines(args[1])
   headers = auth_headers(args[2], {["Content-Type"] = "application/json"})
   run = args[3]
end

function request()
   n = n + 1
   return wrk.format("POST", paths[(n - 1) % #paths + 1], headers, new_comment(run, n))
end
