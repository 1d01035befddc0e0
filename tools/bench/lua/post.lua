-- The same POST every time, with an empty JSON body, to the URL's path (the bare_write reference).
-- No request() function, so wrk formats the request once and reuses it.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
