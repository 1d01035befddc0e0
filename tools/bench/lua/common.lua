-- Shared by the scenario scripts: done() from report.lua, and small helpers. Every script builds
-- its requests in init() where it can, so request() is a table lookup (the generator shares the
-- machine's cores with the server: its CPU per request is kept as small as possible).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then lines[#lines + 1] = line end
   end
   assert(#lines > 0, "no lines in " .. path)
   return lines
end

function auth_headers(token, extra)
   local headers = {}
   if token and token ~= "" and token ~= "-" then headers["Authorization"] = "Token " .. token end
   for k, v in pairs(extra or {}) do headers[k] = v end
   return headers
end

-- The body of POST /api/articles: a unique title per request (the slug follows the title), a
-- Markdown body of a typical size, two tags.
function new_article(run, n)
   return string.format(
      '{"article": {"title": "Bench write %s %d", "description": "Written by make bench.", '
      .. '"body": "# Bench write %d\\n\\nA paragraph about *latency* and **throughput**, '
      .. 'measured under load.\\n\\n- one\\n- two\\n\\n```python\\nprint(%d)\\n```\\n", '
      .. '"tagList": ["bench", "django"]}}', run, n, n, n)
end

-- The bodies of the other writes; each names the run, so the clean-up can find what it wrote
-- (benchkit/cleanup.py: COMMENT_BODY, BIO and REGISTERED, kept in step with these).
function new_comment(run, n)
   return string.format('{"comment": {"body": "Bench comment %s %d: fast enough?"}}', run, n)
end

function new_bio(run, n)
   return string.format('{"user": {"bio": "Bench bio %s %d"}}', run, n)
end

-- A username and email of its own per request: "bench-reg-<run>-<n>" (at most 40 characters).
function new_account(run, n, password)
   local name = string.format("bench-reg-%s-%d", run, n)
   return string.format(
      '{"user": {"username": "%s", "email": "%s@register.bench.conduit.local", "password": "%s"}}',
      name, name, password)
end

-- A request() that goes round `requests` in order, for sequences whose order matters (a POST
-- before its DELETE). wrk 4 calls request() once in thread 0 before any connection opens, to
-- check the request (script_verify_request), and never sends what that call returns: a plain
-- rotation then started at its second element, leaving the first path's POST unsent and its
-- DELETE a 4xx once a pass. That first call gets a harmless GET instead.
function in_order(requests)
   local i = -1
   return function()
      if i < 0 then
         i = 0
         return wrk.format("GET", "/api/tags")
      end
      i = i % #requests + 1
      return requests[i]
   end
end

-- A script whose every request is `method path` as one signed-in user, with a body of its own
-- (make_body(run id, n)): create.lua and update.lua. Sets init() and request(); the script's
-- args: <token> <run id>.
function unique_writes(method, path, make_body)
   local headers, run
   local n = 0
   function init(args)
      headers = auth_headers(args[1], {["Content-Type"] = "application/json"})
      run = args[2]
   end
   function request()
      n = n + 1
      return wrk.format(method, path, headers, make_body(run, n))
   end
end
