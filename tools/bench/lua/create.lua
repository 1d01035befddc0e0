-- POST /api/articles as one signed-in user, a unique title per request. args: <token> <run id>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

unique_writes("POST", "/api/articles", new_article)
