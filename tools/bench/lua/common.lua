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
