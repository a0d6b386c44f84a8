"""The cache as a convenience, never a single point of failure (issue 16).

Every cache call has a short timeout (settings.CACHES) and, through this module, a decided answer
when it fails: a read finds nothing (the caller counts from the database), a write is skipped, and
a rate limit is reported as not checked. After a failure this process leaves that cache alone for
BREAKER_SECONDS, so a Redis that hangs costs one timeout per process, not one per call; then one
call tries it again.
"""

import contextlib
import logging
import time

from django.core.cache import caches

log = logging.getLogger(__name__)

BREAKER_SECONDS = 5.0

# When each cache may be tried again (time.monotonic()). The one piece of state this process keeps
# between requests: a time, per cache alias, and no data of anyone's.
_broken_until: dict[str, float] = {}


class CacheUnavailable(Exception):
    """The cache did not answer, or failed recently and is being left alone."""


def call(alias: str, method: str, *args, **kwargs):
    """`caches[alias].<method>(*args, **kwargs)`, or CacheUnavailable. A ValueError is the
    backend's answer (incr of a missing key), not a failure, and passes through."""
    return run(alias, lambda: getattr(caches[alias], method)(*args, **kwargs))


def run(alias: str, function, *args, **kwargs):
    """`function(*args, **kwargs)`, which talks to the cache `alias`, under the same breaker and
    with the same answers as `call`."""
    if _broken_until.get(alias, 0.0) > time.monotonic():
        raise CacheUnavailable(alias)
    try:
        return function(*args, **kwargs)
    except ValueError:
        raise
    except Exception as exc:  # what a backend raises differs: Redis, the database, a socket
        _broken_until[alias] = time.monotonic() + BREAKER_SECONDS
        log.warning("Cache %r failed (%s); leaving it alone for %ss", alias, exc, BREAKER_SECONDS)
        raise CacheUnavailable(alias) from exc


def get(key: str, alias: str = "default"):
    try:
        return call(alias, "get", key)
    except CacheUnavailable:
        return None


def set(key: str, value, timeout: float, alias: str = "default") -> None:
    with contextlib.suppress(CacheUnavailable):
        call(alias, "set", key, value, timeout)


def get_many(keys: list[str], alias: str = "default") -> dict:
    try:
        return call(alias, "get_many", keys)
    except CacheUnavailable:
        return {}


def set_many(values: dict, timeout: float, alias: str = "default") -> None:
    with contextlib.suppress(CacheUnavailable):
        call(alias, "set_many", values, timeout)


def delete_many(keys: list[str], alias: str = "default") -> None:
    with contextlib.suppress(CacheUnavailable):
        call(alias, "delete_many", keys)


def reset() -> None:
    """Forget past failures (tests, which swap caches)."""
    _broken_until.clear()


def available(alias: str = "default") -> bool:
    """Whether the cache answers now (for the health views): one read, within its timeout."""
    try:
        call(alias, "get", "health:probe")
    except CacheUnavailable:
        return False
    return True
