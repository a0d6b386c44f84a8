-- GET the URL given to wrk, as a first-time visitor would (no cookies); 200 is the answer wanted.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

function init(args)
  expected = 200
end
