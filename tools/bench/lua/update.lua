-- PUT /api/user as one signed-in user, changing only the bio (unique per request).
-- args: <token> <run id>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

unique_writes("PUT", "/api/user", new_bio)
