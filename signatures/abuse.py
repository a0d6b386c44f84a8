"""Defences of the sign form: a check that the POST came from our own pages, the one-click
button's token, and the signing limits shared by every app server (lib.ratelimit). With the form
token and the honeypot (lib.forms), none of them is a CAPTCHA; a person who trips one is told, in
their language, to try again, and the refusal is tallied for moderators.

The form carries no CSRF cookie or token, so that the petition page is the same for every visitor
and any HTTP cache can serve it, and so that a widget embedded on another site can sign where the
browser sends no cookies. The browser itself says where a POST came from (Sec-Fetch-Site, Origin).
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


def one_click_token(petition_id: int, email: str, issued_at: float | None = None) -> str:
    """The one-click form's token: which petition, for whose cookie (a keyed digest of its
    address) and when the button was shown. Only the private page that offers one click carries
    it, so a page of another site cannot post one click for a reader whose browser sends neither
    Origin nor Sec-Fetch-Site, and a click on a button shown a moment ago can be told apart."""
    issued_ms = round(1000 * (time.time() if issued_at is None else issued_at))
    return signing.Signer(salt=ONE_CLICK_SALT).sign_object(
        [petition_id, _supporter_digest(canonical_email(email)), issued_ms]
    )


def one_click_token_age(token: str, petition_id: int, email_canonical: str) -> float | None:
    """Seconds since the one-click button with this token was shown; None unless it was shown
    for this petition to the supporter with this (canonical) address, within
    FORM_TOKEN_MAX_AGE."""
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
    """Count this attempt against the signing limits. Every attempt counts against its address
    (the onion service's, which every signer over Tor shares, has its own rate); only a `valid`
    one (the form passed its checks) within its address's limit counts against the petition, so
    that junk posts cannot use up a petition's budget and keep real signers out. A limit that
    cannot be counted lets the signature through, stored as not checked
    (Signature.rate_checked)."""
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
