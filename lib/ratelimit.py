"""Fixed-window rate limits shared by every app server, one round trip per attempt (Redis
script or lib.models.RateCounter). An unreachable counter lets the attempt go, unchecked.
"""

import functools
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

from lib import cache as caching

from .models import RateCounter

log = logging.getLogger(__name__)

# So a counter cannot expire between starting and adding to it (its key is never reused).
WINDOW_GRACE_SECONDS = 60

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.cache
def parse_rate(rate: str) -> tuple[int, int]:
    """'20/10m' -> (20, 600)."""
    match = _RATE.match(rate.strip().lower())
    if not match:
        raise ValueError(f"Not a rate like 20/10m: {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit]


@dataclass(frozen=True)
class Limit:
    """`subject` holds only keyed hashes: the shared cache must not hold addresses or emails."""

    name: str
    subject: str
    rate: str


@dataclass(frozen=True)
class Verdict:
    checked: bool
    broken: Limit | None = None
    retry_after: int = 0  # seconds until the broken limit's window ends

    @property
    def refused(self) -> bool:
        return self.broken is not None


def hit(limits: Sequence[Limit]) -> Verdict:
    """In order: an attempt refused by one limit is taken back from those after it."""
    now = int(time.time())
    windows = {}
    for limit in limits:
        allowed, seconds = parse_rate(limit.rate)
        start = now - now % seconds
        windows[f"limit:{limit.subject}:{start}"] = (limit, allowed, start + seconds)
    alias = settings.RATE_LIMIT_CACHE
    try:
        counts = count_hits(alias, {key: end - now for key, (_, _, end) in windows.items()})
    except caching.CacheUnavailable:
        return Verdict(checked=False)
    keys = list(windows)
    for position, key in enumerate(keys):
        limit, allowed, end = windows[key]
        if counts[key] > allowed:
            if keys[position + 1 :]:
                take_back(alias, keys[position + 1 :])
            return Verdict(checked=True, broken=limit, retry_after=end - now)
    return Verdict(checked=True)


def count_hits(alias: str, windows: dict[str, int]) -> dict[str, int]:
    """Each counter's value after one more, in one round trip; raises CacheUnavailable."""
    cache = caches[alias]
    ttl = {key: seconds + WINDOW_GRACE_SECONDS for key, seconds in windows.items()}
    if isinstance(cache, DatabaseCache):
        try:
            return RateCounter.hit(ttl)
        except DatabaseError as exc:
            raise caching.CacheUnavailable(alias) from exc
    if isinstance(cache, RedisCache):
        return caching.run(alias, _count_in_redis, alias, cache, ttl)
    return {key: _count_one(alias, key, seconds) for key, seconds in ttl.items()}


# Each counter started with its expiry if new (SET NX EX), then one added, all in one script: one
# command for redis-py to pack and one answer to read, rather than a pipeline of four.
COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[i], 'NX')
  counts[i] = redis.call('INCR', key)
end
return counts
"""


def _count_in_redis(alias: str, cache, ttl: dict[str, int]) -> dict[str, int]:
    # EVALSHA; redis-py loads the script and sends it again if the server does not have it.
    script = get_redis_connection(alias).register_script(COUNT_SCRIPT)
    keys = [cache.make_key(key) for key in ttl]
    counts = script(keys=keys, args=list(ttl.values()))
    return dict(zip(ttl, counts, strict=True))


def _count_one(alias: str, key: str, seconds: int) -> int:
    # add succeeds for exactly one of several threads starting the same counter.
    try:
        return caching.call(alias, "incr", key)
    except ValueError:
        if caching.call(alias, "add", key, 1, seconds):
            return 1
        return caching.call(alias, "incr", key)


def take_back(alias: str, keys: list[str]) -> None:
    cache = caches[alias]
    try:
        if isinstance(cache, DatabaseCache):
            RateCounter.take_back(keys)
        else:
            for key in keys:
                caching.call(alias, "decr", key)
    except (caching.CacheUnavailable, DatabaseError, ValueError):
        log.warning("Could not take back a hit on %s", keys)
