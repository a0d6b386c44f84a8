"""Fixed-window rate limits that every app server shares: signing, starting a petition, the
starter's emails. Counted in the cache `settings.RATE_LIMIT_CACHE`: in Redis, one pipeline of
`SET key 0 EX … NX` and `INCR` per limit; when that cache is the database, rows of
lib.models.RateCounter, one statement for all the limits. Either way one round trip for every
limit an attempt is checked against.

A counter the cache cannot reach is a decided answer, not an error: the attempt goes on, marked
as not checked (Verdict.checked), rather than refused because our cache is down. Redis calls have
the cache's socket timeouts (settings.CACHES) and the cache breaker (lib.cache).
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

# A counter outlives its window a little, so that it cannot expire between the command that
# starts it and the one that adds to it (the window's start is in its key: never reused).
WINDOW_GRACE_SECONDS = 60

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.cache
def parse_rate(rate: str) -> tuple[int, int]:
    """'20/10m' -> (20, 600): so many attempts per so many seconds."""
    match = _RATE.match(rate.strip().lower())
    if not match:
        raise ValueError(f"Not a rate like 20/10m: {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit]


@dataclass(frozen=True)
class Limit:
    """`rate` attempts per window for one subject. `name` says which limit refused an attempt
    (a BlockedAttempt reason for signing); `subject` holds no raw address or email, only
    keyed hashes of them, since the shared cache must not hold either."""

    name: str
    subject: str
    rate: str


@dataclass(frozen=True)
class Verdict:
    """What counting one attempt against its limits found. `checked` is False when the counters
    could not be reached: nothing is refused then."""

    checked: bool
    broken: Limit | None = None
    retry_after: int = 0  # seconds until the broken limit's window ends

    @property
    def refused(self) -> bool:
        return self.broken is not None


def hit(limits: Sequence[Limit]) -> Verdict:
    """Count one attempt against each limit, in one round trip, and say which one it breaks.
    Limits are checked in order: an attempt refused by one is not counted against those after
    it (their hits are taken back, a second round trip only when refusing)."""
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
    """Add one to the counter at each key in the cache `alias`, starting it for its seconds (and
    WINDOW_GRACE_SECONDS) if it is new; return each counter's value. One round trip. Raises
    caching.CacheUnavailable when the cache does not answer."""
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


def _count_in_redis(alias: str, cache, ttl: dict[str, int]) -> dict[str, int]:
    # No MULTI: SET NX and INCR are each atomic, and a counter cannot expire between them.
    pipe = get_redis_connection(alias).pipeline(transaction=False)
    for key, seconds in ttl.items():
        name = cache.make_key(key)
        pipe.set(name, 0, ex=seconds, nx=True)
        pipe.incr(name)
    answers = pipe.execute()
    return dict(zip(ttl, answers[1::2], strict=True))


def _count_one(alias: str, key: str, seconds: int) -> int:
    # Any other cache (per-process memory in some tests): incr fails on a missing key, and add
    # succeeds for exactly one of several threads starting the same counter.
    try:
        return caching.call(alias, "incr", key)
    except ValueError:
        if caching.call(alias, "add", key, 1, seconds):
            return 1
        return caching.call(alias, "incr", key)


def take_back(alias: str, keys: list[str]) -> None:
    """Undo one hit counted by count_hits at each key, if the cache answers."""
    cache = caches[alias]
    try:
        if isinstance(cache, DatabaseCache):
            RateCounter.take_back(keys)
        else:
            for key in keys:
                caching.call(alias, "decr", key)
    except (caching.CacheUnavailable, DatabaseError, ValueError):
        log.warning("Could not take back a hit on %s", keys)
