-- POST /api/users: a new account per request, its username and email unique (the run id and a
-- counter), a password that passes the validators. args: <run id> <password>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local headers = {["Content-Type"] = "application/json"}
local run, password
local n = 0

function init(args)
   run = args[1]
   password = args[2]
end

function request()
   n = n + 1
   return wrk.format("POST", "/api/users", headers, new_account(run, n, password))
end
