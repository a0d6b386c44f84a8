"""Defences of the sign form: a check that the POST came from our own pages, a signed form token
with a minimum fill time, a honeypot, and rate limits shared by every app server. None of them is
a CAPTCHA; a person who trips one is told, in their language, to try again, and the refusal is
tallied for moderators.

The form carries no CSRF cookie or token, so that the petition page is the same for every visitor
and any HTTP cache can serve it, and so that a widget embedded on another site can sign where the
browser sends no cookies. The browser itself says where a POST came from (Sec-Fetch-Site, Origin).
"""

import functools
import logging
import re
import time

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError
from django.utils.crypto import salted_hmac
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

from lib import cache as caching
from lib.normalise import canonical_email

from .models import BlockedAttempt, RateCounter

log = logging.getLogger("signatures.abuse")

FORM_TOKEN_SALT = "signatures.form-token"  # noqa: S105 - a namespace, not a secret
ONE_CLICK_SALT = "signatures.one-click"
# A page left open for up to a week still signs; an older token is treated as forged, and the
# form asks to press Sign again, with everything typed kept.
FORM_TOKEN_MAX_AGE = 7 * 24 * 3600
# The page's tokens are made for the start of its ten seconds: as long as an HTTP cache keeps it.
FORM_TOKEN_STEP_SECONDS = 10
# A limit's counter outlives its window a little, so that it cannot expire between the check that
# it exists and the increment (the window's start is in its key, so it is never reused).
WINDOW_GRACE_SECONDS = 60
# What broken_limit answers when the cache cannot count: not a limit, and not a refusal.
UNCHECKED = "unchecked"


def from_another_site(request) -> bool:
    """Whether the browser says this POST was sent by a page of another site. Browsers send
    Sec-Fetch-Site and Origin on every form POST; a request with neither is not from a browser
    page, and the form token, the fill time and the rate limits still apply to it."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    own = (f"{request.scheme}://{request.get_host()}", settings.SITE_URL)
    return origin not in own and origin not in settings.CSRF_TRUSTED_ORIGINS


def form_token(petition_id: int, issued_at: float | None = None) -> str:
    """Which petition's form this is and when it was shown (now, or `issued_at`), signed so that
    a bot can neither claim it waited nor carry a token from one petition to another."""
    issued_ms = round(1000 * (time.time() if issued_at is None else issued_at))
    return signing.Signer(salt=FORM_TOKEN_SALT).sign_object([petition_id, issued_ms])


def form_token_age(token: str, petition_id: int) -> float | None:
    """Seconds since the form with this token was shown; None if the token is not ours, is for
    another petition, or is older than FORM_TOKEN_MAX_AGE."""
    try:
        token_petition, issued_ms = signing.Signer(salt=FORM_TOKEN_SALT).unsign_object(token)
        age = time.time() - issued_ms / 1000
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if token_petition != petition_id or age > FORM_TOKEN_MAX_AGE:
        return None
    return max(age, 0.0)


def one_click_token(petition_id: int, email: str, issued_at: float | None = None) -> str:
    """The one-click form's token: which petition, for whose cookie (a keyed digest of its
    address) and when the button was shown. Only the private page that offers one click carries
    it, so a page of another site cannot post one click for a reader whose browser sends neither
    Origin nor Sec-Fetch-Site, and a click on a button shown a moment ago can be told apart."""
    issued_ms = round(1000 * (time.time() if issued_at is None else issued_at))
    return signing.Signer(salt=ONE_CLICK_SALT).sign_object(
        [petition_id, _supporter_digest(email), issued_ms]
    )


def one_click_token_age(token: str, petition_id: int, email: str) -> float | None:
    """Seconds since the one-click button with this token was shown; None unless it was shown
    for this petition to the supporter with this address, within FORM_TOKEN_MAX_AGE."""
    try:
        token_petition, digest, issued_ms = signing.Signer(salt=ONE_CLICK_SALT).unsign_object(token)
        age = time.time() - issued_ms / 1000
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if token_petition != petition_id or digest != _supporter_digest(email):
        return None
    if age > FORM_TOKEN_MAX_AGE:
        return None
    return max(age, 0.0)


def _supporter_digest(email: str) -> str:
    return salted_hmac(ONE_CLICK_SALT, canonical_email(email), algorithm="sha256").hexdigest()[:16]


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


def count_hit(alias: str, key: str, seconds: int) -> int:
    """Add one to the counter at `key` in the cache `alias`, starting it at one for `seconds` if it
    is new; return its value. Raises caching.CacheUnavailable when the cache does not answer."""
    return count_hits(alias, {key: seconds})[key]


def count_hits(alias: str, windows: dict[str, int]) -> dict[str, int]:
    """count_hit for several counters in one round trip: each key's counter, started for its
    seconds, and its value. In Redis, SET NX starts a counter with its expiry and INCR adds one,
    in one MULTI; in the database cache, the counters are rows of RateCounter, counted in one
    statement. Raises caching.CacheUnavailable when the cache does not answer."""
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
    pipe = get_redis_connection(alias).pipeline()
    for key, seconds in ttl.items():
        name = cache.make_key(key)
        pipe.set(name, 0, ex=seconds, nx=True)
        pipe.incr(name)
    answers = pipe.execute()
    return dict(zip(ttl, answers[1::2], strict=True))


def _count_one(alias: str, key: str, seconds: int) -> int:
    # Any other cache: incr fails on a missing key, and add succeeds for exactly one of several
    # processes starting the same counter.
    try:
        return caching.call(alias, "incr", key)
    except ValueError:
        if caching.call(alias, "add", key, 1, seconds):
            return 1
        return caching.call(alias, "incr", key)


def take_back(alias: str, key: str) -> None:
    """Undo one hit counted by count_hits, if the cache answers."""
    cache = caches[alias]
    try:
        if isinstance(cache, DatabaseCache):
            RateCounter.take_back(key)
        else:
            caching.call(alias, "decr", key)
    except (caching.CacheUnavailable, DatabaseError, ValueError):
        log.warning("Could not take back a hit on %s", key)


def broken_limit(
    petition, ip_hash: str, ip_rate: str | None = None, *, valid: bool = True
) -> str | None:
    """Count this attempt against the limits and say which one it breaks, if any; UNCHECKED when
    the cache cannot count it: the signature is then let through rather than refused because our
    cache is down, and stored as not checked (Signature.rate_checked). `ip_rate` replaces
    SIGN_RATE_PER_IP for an address that many people share (the onion service's).

    Every attempt counts against its address; only a `valid` one (the form passed its checks)
    within its address's limit counts against the petition, so that junk posts cannot use up a
    petition's budget and keep real signers out. Both are counted in one round trip, and the
    petition's hit is taken back when the address's limit refuses it: one address flooding a
    petition moves its counter by no more than its requests in flight.

    Fixed windows in the cache every app server shares. The key holds the hashed address, so the
    shared cache never holds a raw IP either."""
    now = int(time.time())
    limits = [
        (BlockedAttempt.Reason.RATE_IP, f"ip:{ip_hash}", ip_rate or settings.SIGN_RATE_PER_IP),
        (
            BlockedAttempt.Reason.RATE_PETITION,
            f"petition:{petition.pk}",
            settings.SIGN_RATE_PER_PETITION,
        ),
    ]
    checked = []
    for reason, subject, rate in limits if valid else limits[:1]:
        allowed, seconds = parse_rate(rate)
        checked.append((reason, f"sign-limit:{subject}:{now - now % seconds}", allowed, seconds))
    alias = settings.SIGN_RATE_CACHE
    try:
        counts = count_hits(alias, {key: seconds for _, key, _, seconds in checked})
    except caching.CacheUnavailable:
        return UNCHECKED
    for position, (reason, key, allowed, _) in enumerate(checked):
        if counts[key] > allowed:
            for _, later, _, _ in checked[position + 1 :]:
                take_back(alias, later)
            return reason
    return None


def record_blocked(petition, reason: str, ip_hash: str) -> None:
    log.warning("Refused a signature on %s: %s (source %s)", petition.slug, reason, ip_hash[:12])
    BlockedAttempt.tally(petition, reason, ip_hash)
