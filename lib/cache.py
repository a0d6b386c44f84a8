"""The one way to the cache, which is a convenience, never a single point of failure, and the one
list of what is kept there.

Every cache call has a short timeout (settings.CACHES) and, through this module, a decided answer
when it fails: a read finds nothing (the caller counts from the database), a write is skipped, and
a rate limit is reported as not checked. After a failure this process leaves that cache alone for
BREAKER_SECONDS, so a Redis that hangs costs one timeout per process, not one per call; then one
call tries it again.
"""

import contextlib
import hashlib
import logging
import time

from django.conf import settings
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


def load_backends() -> None:
    """Import every cache's backend and its client library, without connecting (the gunicorn
    master, before it forks)."""
    for alias in settings.CACHES:
        caches[alias]


# -- what is kept: every key family, with a version to bump when what it holds changes -----------
# The rate limiters' counters (sign-limit:…, start-limit:…) are theirs to name.


def count_key(slug: str) -> str:
    """A petition's count, for a second (signatures.counting)."""
    return f"petition-count:v1:{slug}"


def last_count_key(slug: str) -> str:
    """The last count made, for count.json while the database is down."""
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
    # v1: the renderer's version; a change to what it makes (tags, options) takes a new one.
    return "letter-html:v1:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def page_key(parts: tuple) -> str:
    """A public page as rendered, found by everything its bytes depend on (lib.http.kept)."""
    return "kept-page:v2:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def edition_key(slug: str) -> str:
    """A petition's last edit by slug, so that its kept page is found without reading the row."""
    return f"petition-edition:{slug}"


def signing_facts_key(slug: str) -> str:
    """What signing reads of a petition, for a few seconds."""
    return f"signing-facts:{slug}"


ADMIN_COUNTRIES_KEY = "admin:signature-countries"
