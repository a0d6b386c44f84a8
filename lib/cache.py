"""The one way to the cache, where a failure is a miss, never an error, and the list of its keys.

After a failure this process leaves that cache alone for BREAKER_SECONDS, so a Redis that hangs
costs one timeout per process, not one per call.
"""

import contextlib
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)

BREAKER_SECONDS = 5.0

# Per alias, when it may be tried again (time.monotonic()).
_broken_until: dict[str, float] = {}


class CacheUnavailable(Exception):
    pass


def call(alias: str, method: str, *args, **kwargs):
    """A ValueError (incr of a missing key) is the backend's answer and passes through."""
    return run(alias, lambda: getattr(caches[alias], method)(*args, **kwargs))


def run(alias: str, function, *args, **kwargs):
    """`function`, which talks to the cache `alias`, under the same breaker as `call`."""
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
    """For tests, which swap caches."""
    _broken_until.clear()


def available(alias: str = "default") -> bool:
    try:
        call(alias, "get", "health:probe")
    except CacheUnavailable:
        return False
    return True


def load_backends() -> None:
    """Import every backend without connecting (the gunicorn master, before it forks)."""
    for alias in settings.CACHES:
        caches[alias]


# Every key family, with a version to bump when what it holds changes; the rate limiters name
# their own counters.


def count_key(slug: str) -> str:
    return f"petition-count:v1:{slug}"


def last_count_key(slug: str) -> str:
    """For count.json while the database is down."""
    return f"petition-last-count:v1:{slug}"


def recent_key(petition_id: int) -> str:
    # v2: a v1 list could hold the city of a signer in Iran.
    return f"petition-recent:v2:{petition_id}"


def countries_key(petition_id: int, minimum: int) -> str:
    """The released breakdown by country; `…:counting` is the lock of whoever counts a new one."""
    return f"petition-countries:v2:{petition_id}:{minimum}"


def series_key(petition_id: int) -> str:
    return f"petition-series:v1:{petition_id}"


def chart_key(petition_id: int, language: str) -> str:
    return f"petition-chart:v1:{petition_id}:{language}"


def share_image_key(petition_id: int, language: str, edition: str, window: int) -> str:
    digest = hashlib.blake2b(edition.encode(), digest_size=6).hexdigest()
    return f"share-image:v1:{petition_id}:{language}:{digest}:{window}"


def letter_key(text: str) -> str:
    # Bump with any change to what the renderer makes.
    return "letter-html:v1:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def page_key(parts: tuple) -> str:
    return "kept-page:v2:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def edition_key(slug: str) -> str:
    """So that a kept page is found without reading the petition's row."""
    return f"petition-edition:{slug}"


def signing_facts_key(slug: str) -> str:
    return f"signing-facts:{slug}"


ADMIN_COUNTRIES_KEY = "admin:signature-countries"
