"""Settings for `make bench`: production's own settings, unchanged, plus one bench-only middleware
that tells wrk how many database queries each response took (header `X-Bench-Queries`).

The figures are only comparable if the site and its floor run the very same stack, so the floor
(bench/floor_app) imports this module too. Nothing under config/ knows about it.
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

# First, so that it sees every query any other middleware or view makes.
MIDDLEWARE = ["bench.querycount.QueryCountMiddleware", *MIDDLEWARE]
