"""Defences of the sign form: rate limits shared by every app server, a honeypot and a minimum
fill time. None of them is a CAPTCHA; a person who trips one is told, in their language, to try
again, and the refusal is tallied for moderators."""

import logging
import time

from django.conf import settings
from django.core import signing
from django_ratelimit.core import is_ratelimited

from .models import BlockedAttempt

log = logging.getLogger("signatures.abuse")
STARTED_SALT = "signatures.form-started"


def form_started_token() -> str:
    """When the form was shown, signed so that a bot cannot claim it waited."""
    return signing.dumps(time.time(), salt=STARTED_SALT)


def seconds_since(token: str) -> float | None:
    try:
        started = signing.loads(token, salt=STARTED_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature:
        return None
    return time.time() - float(started)


def rate_limit_reason(request, petition, ip_hash: str) -> str | None:
    """Count this attempt against the limits and say which one it breaks, if any."""
    checks = (
        (BlockedAttempt.Reason.RATE_IP, "sign-ip", ip_hash, settings.SIGN_RATE_PER_IP),
        (
            BlockedAttempt.Reason.RATE_PETITION,
            "sign-petition",
            str(petition.pk),
            settings.SIGN_RATE_PER_PETITION,
        ),
    )
    for reason, group, value, rate in checks:
        # The key is the hashed address, so the shared cache never holds a raw IP either.
        if is_ratelimited(
            request, group=group, key=lambda _g, _r, v=value: v, rate=rate, increment=True
        ):
            return reason
    return None


def record_blocked(petition, reason: str, ip_hash: str) -> None:
    log.warning("Refused a signature on %s: %s (source %s)", petition.slug, reason, ip_hash[:12])
    BlockedAttempt.tally(petition, reason, ip_hash)
