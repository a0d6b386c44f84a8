"""Remembering a supporter between petitions, for one-click signing.

After someone signs, a signed, HttpOnly cookie keeps what they typed (name, email, country,
locality) so that the next petition can offer "Sign as Sara K." without the form. It holds only what
this browser's user typed themselves, never data looked up from the database: a stranger who types
someone else's email gets back only their own typing, so the cookie cannot reveal whether that
address had signed. The signature (HMAC with SECRET_KEY) stops anyone from forging one.
"""

import base64
import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from . import keyed

COOKIE_NAME = "supporter"
COOKIE_SALT = "signatures.supporter"
COOKIE_MAX_AGE = 180 * 24 * 3600


@dataclass(frozen=True)
class Supporter:
    name: str
    email: str
    country: str
    locality: str = ""
    # Set once this browser confirmed the address through an emailed link: petitions that need
    # confirmation then take its one-click signature without another email.
    confirmed: bool = False

    @property
    def short_name(self) -> str:
        """'Sara Karimi' -> 'Sara K.': enough for the button, not a full identity."""
        return short_name(self.name)


def short_name(name: str) -> str:
    parts = name.split()
    if len(parts) < 2:
        return name
    return f"{parts[0]} {parts[-1][0]}."


def recall(request) -> Supporter | None:
    value = request.COOKIES.get(COOKIE_NAME)
    if not value:
        return None
    try:
        return Supporter(**_read(value))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def _read(value: str) -> dict:
    signed = keyed.unsign(COOKIE_SALT, value)
    if signed is None:
        # Set by django.core.signing before 2026-11 (or forged, which this refuses too).
        return signing.loads(value, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    payload, _, stamp = signed.rpartition(".")
    if time.time() - int(stamp) > COOKIE_MAX_AGE:
        raise signing.SignatureExpired(stamp)
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def remember(response, supporter: Supporter) -> None:
    # Its fields as they are (asdict() would deep-copy them) as base64 JSON with the time, and a
    # keyed MAC (keyed.py): django.core.signing took three times as long, on every signature.
    payload = json.dumps(vars(supporter), separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    response.set_cookie(
        COOKIE_NAME,
        keyed.sign(COOKIE_SALT, f"{payload}.{int(time.time())}"),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def forget(response) -> None:
    response.delete_cookie(COOKIE_NAME, samesite="Lax")
