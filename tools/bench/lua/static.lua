-- The same request every time: the path is the URL's, optional args: <token or ->.
-- No request() function, so wrk formats the request once and reuses it.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

function init(args)
   for k, v in pairs(auth_headers(args[1])) do wrk.headers[k] = v end
end
