-- POST the full sign form to the URL given to wrk, a new email on every request, as the browser
-- form sends it: the page's signed form token (`started`) and the Origin header a browser adds to
-- every form POST; no cookies. A signature is answered with a 302 to the thanks page.
--
--   wrk ... -s sign.lua URL -- ORIGIN STARTED RUN_PREFIX
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local n = 0
local prefix, headers, fields

local function quote(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  expected = 302
  prefix = args[3] .. "-t" .. id
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Origin"] = args[1],
  }
  fields = "started=" .. quote(args[2]) .. "&country=GB&locality=&comment=&show_name=on&website="
  -- run.py --webhook: every signer may be contacted, so each one is a webhook event.
  if os.getenv("BENCH_SIGN_CONSENT") == "1" then
    fields = fields .. "&consent_contact=on"
  end
end

function request()
  n = n + 1
  local body = fields .. "&name=" .. quote("Sara Karimi " .. n) ..
    "&email=" .. quote(prefix .. "-" .. n .. "@example.com")
  return wrk.format("POST", nil, headers, body)
end
