"""Defences of the sign form: rate limits shared by every app server, a honeypot and a minimum
fill time. None of them is a CAPTCHA; a person who trips one is told, in their language, to try
again, and the refusal is tallied for moderators."""

import functools
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.cache import caches

from . import keyed
from .models import BlockedAttempt

log = logging.getLogger("signatures.abuse")
STARTED_SALT = "signatures.form-started"
# A page left open for up to a week still signs; an older start time is treated as forged.
STARTED_MAX_AGE = 7 * 24 * 3600


def form_started_token(at: float | None = None) -> str:
    """When the form was shown (now, or `at`), in milliseconds, signed so that a bot cannot claim
    it waited."""
    return keyed.sign(STARTED_SALT, str(round(1000 * (time.time() if at is None else at))))


def seconds_since(token: str) -> float | None:
    """How long ago the form with this start time was shown; None if the token is not ours or is
    more than a week old."""
    started = keyed.unsign(STARTED_SALT, token)
    if started is not None and started.isdigit():
        elapsed = time.time() - int(started) / 1000
    elif token.count(":") == 2:
        # Made by django.core.signing before 2026-11: pages shown then still work for a week.
        try:
            elapsed = time.time() - float(signing.loads(token, salt=STARTED_SALT))
        except (signing.BadSignature, ValueError, TypeError):
            return None
    else:
        return None
    return elapsed if elapsed <= STARTED_MAX_AGE else None


_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.cache  # read on every signature; a handful of distinct settings
def parse_rate(rate: str) -> tuple[int, int]:
    """'20/10m' -> (20, 600): so many attempts per so many seconds."""
    match = _RATE.match(rate.strip().lower())
    if not match:
        raise ValueError(f"Not a rate like 20/10m: {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit]


def count_hits(cache, windows: list[tuple[str, int]]) -> list[int]:
    """Add one to each (key, seconds) counter, creating it for that many seconds, and return the
    new values."""
    return send_hits(cache, windows)()


def send_hits(cache, windows: list[tuple[str, int]]) -> Callable[[], list[int]]:
    """count_hits, with the answer read when the function returned is called. Redis does all the
    counters in one command, sent at once, so the caller can get on with its work meanwhile
    (config/cache.py); other caches count at once, two calls a counter."""
    if hasattr(cache, "send_count_hits"):
        return cache.send_count_hits(windows)
    hits = []
    for key, seconds in windows:
        cache.add(key, 0, seconds)
        try:
            hits.append(cache.incr(key))
        except ValueError:  # expired between add and incr: a new window starts with this hit
            cache.set(key, 1, seconds)
            hits.append(1)
    return lambda: hits


def count_attempt(petition, ip_hash: str) -> Callable[[], str | None]:
    """Count this attempt against the limits; the function returned says which one it breaks, if
    any. Call it once, after checking the form: the count is under way meanwhile.

    Fixed windows in the cache every app server shares. The key holds the hashed address, so the
    shared cache never holds a raw IP either.
    """
    now = int(time.time())
    limits, windows = [], []
    for reason, subject, rate in (
        (BlockedAttempt.Reason.RATE_IP, f"ip:{ip_hash}", settings.SIGN_RATE_PER_IP),
        (
            BlockedAttempt.Reason.RATE_PETITION,
            f"petition:{petition.pk}",
            settings.SIGN_RATE_PER_PETITION,
        ),
    ):
        allowed, seconds = parse_rate(rate)
        limits.append((reason, allowed))
        windows.append((f"sign-limit:{subject}:{now - now % seconds}", seconds))
    answer = send_hits(caches[settings.SIGN_RATE_CACHE], windows)

    def broken_limit() -> str | None:
        for (reason, allowed), used in zip(limits, answer(), strict=True):
            if used > allowed:
                return reason
        return None

    return broken_limit


def record_blocked(petition, reason: str, ip_hash: str) -> None:
    log.warning("Refused a signature on %s: %s (source %s)", petition.slug, reason, ip_hash[:12])
    BlockedAttempt.tally(petition, reason, ip_hash)
