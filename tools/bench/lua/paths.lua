-- GET a rotating set of paths. args: <file with one path per line> [<token or ->]
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local requests = {}
local i = 0

function init(args)
   local headers = auth_headers(args[2])
   for _, path in ipairs(read_lines(args[1])) do
      requests[#requests + 1] = wrk.format("GET", path, headers)
   end
end

function request()
   i = i % #requests + 1
   return requests[i]
end
