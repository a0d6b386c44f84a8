-- GET the URL given to wrk, as a first-time visitor's browser would: no cookies, and gzip
-- accepted (nginx compresses the page; the app's own answers are the same either way). 200 is the
-- answer wanted.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

function init(args)
  expected = 200
  wrk.headers["Accept-Encoding"] = "gzip"
end
