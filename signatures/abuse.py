"""Defences of the sign form, none a CAPTCHA. No CSRF cookie, so pages are cacheable and a
framed widget can sign without cookies; the browser says where a POST came from instead.
"""

import logging
import time

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from lib import ratelimit
from lib.forms import FORM_TOKEN_MAX_AGE
from lib.normalise import canonical_email

from .models import BlockedAttempt

log = logging.getLogger("signatures.abuse")

ONE_CLICK_SALT = "signatures.one-click"


def from_another_site(request) -> bool:
    """A request with neither Sec-Fetch-Site nor Origin is not from a browser page; the form
    token, fill time and rate limits still apply to it."""
    # From META: request.headers would copy every header to read these two.
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return False
    own = (f"{request.scheme}://{request.get_host()}", settings.SITE_URL)
    return origin not in own and origin not in settings.CSRF_TRUSTED_ORIGINS


def one_click_token(petition_id: int, email: str, issued_at: float | None = None) -> str:
    """Petition, supporter digest and time shown: another site cannot forge it for a browser
    that sends no Origin, and a too-quick click can be told apart."""
    issued_ms = round(1000 * (time.time() if issued_at is None else issued_at))
    return signing.Signer(salt=ONE_CLICK_SALT).sign_object(
        [petition_id, _supporter_digest(canonical_email(email)), issued_ms]
    )


def one_click_token_age(token: str, petition_id: int, email_canonical: str) -> float | None:
    """None unless shown for this petition and supporter within FORM_TOKEN_MAX_AGE."""
    try:
        token_petition, digest, issued_ms = signing.Signer(salt=ONE_CLICK_SALT).unsign_object(token)
        age = time.time() - issued_ms / 1000
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if token_petition != petition_id or digest != _supporter_digest(email_canonical):
        return None
    if age > FORM_TOKEN_MAX_AGE:
        return None
    return max(age, 0.0)


def _supporter_digest(email_canonical: str) -> str:
    return salted_hmac(ONE_CLICK_SALT, email_canonical, algorithm="sha256").hexdigest()[:16]


def check_limits(petition, ip_hash: str, *, onion: bool, valid: bool) -> ratelimit.Verdict:
    """Only a `valid` attempt counts against the petition, so junk posts cannot use up its
    budget and keep real signers out. The onion address, shared over Tor, has its own rate."""
    ip_rate = settings.SIGN_RATE_ONION if onion else settings.SIGN_RATE_PER_IP
    limits = [ratelimit.Limit(BlockedAttempt.Reason.RATE_IP, f"sign:ip:{ip_hash}", ip_rate)]
    if valid:
        limits.append(
            ratelimit.Limit(
                BlockedAttempt.Reason.RATE_PETITION,
                f"sign:petition:{petition.pk}",
                settings.SIGN_RATE_PER_PETITION,
            )
        )
    return ratelimit.hit(limits)


def record_blocked(petition, reason: str, ip_hash: str) -> None:
    log.warning("Refused a signature on %s: %s (source %s)", petition.slug, reason, ip_hash[:12])
    BlockedAttempt.tally(petition, reason, ip_hash)
