-- GET the URL given to wrk as a returning supporter's browser would: their signed supporter
-- cookie, and gzip accepted. The page is the same for them as for anyone, so nginx should answer
-- it from its cache (X-Cache-Status, tallied by common.lua); their own sign box is another request.
--
--   wrk ... -s supporter.lua URL -- COOKIE_VALUE
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

function init(args)
  expected = 200
  wrk.headers["Accept-Encoding"] = "gzip"
  wrk.headers["Cookie"] = "supporter=" .. args[1]
end
