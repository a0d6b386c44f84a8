-- POST the full sign form to the URL given to wrk, a new email on every request, as the browser
-- form sends it: the CSRF cookie and token (fetched once; Django accepts the same pair again) and
-- the signed `started` time. A signature is answered with a 302 to the thanks page.
--
--   wrk ... -s sign.lua URL -- CSRF_COOKIE CSRF_TOKEN STARTED RUN_PREFIX
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local n = 0
local prefix, headers, fields

local function quote(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  expected = 302
  prefix = args[4] .. "-t" .. id
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. args[1],
  }
  fields = "csrfmiddlewaretoken=" .. quote(args[2]) .. "&started=" .. quote(args[3]) ..
    "&country=GB&locality=&comment=&show_name=on"
end

function request()
  n = n + 1
  local body = fields .. "&name=" .. quote("Sara Karimi " .. n) ..
    "&email=" .. quote(prefix .. "-" .. n .. "@example.com")
  return wrk.format("POST", nil, headers, body)
end
