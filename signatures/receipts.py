"""Receipt codes: what lets a signer check, and withdraw, their own signature without an account.

A code is 20 characters of Crockford's base32 (100 bits from `secrets`), shown in groups of four.
Only its SHA-256 is stored, written by the statement that inserts the signature, so the table never
holds a capability: whoever reads it learns no code. A repeat signature is handed a code of the same
shape that is never stored, so the answer to signing still says nothing of who had signed.
"""

import base64
import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from lib.normalise import receipt_code

from .models import Signature

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O or U to misread
LENGTH = 20  # 100 bits
GROUP = 4
# RFC 4648's base32 digit for each value, turned into Crockford's for the same value.
_FROM_BASE32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)

COOKIE_NAME = "receipt"
COOKIE_SALT = "signatures.receipt"
# Long enough to follow the redirect to the thank-you page on a slow connection, no longer.
COOKIE_MAX_AGE = 10 * 60


def new_code() -> str:
    """13 random bytes (104 bits) make 21 base32 digits, of which the first 20 are 100 random
    bits: one draw from `secrets` rather than twenty."""
    digits = base64.b32encode(secrets.token_bytes(13)).decode("ascii")[:LENGTH]
    return digits.translate(_FROM_BASE32)


def grouped(code: str) -> str:
    """`ABCD-EFGH-…`, for reading aloud or copying by hand."""
    return "-".join(code[start : start + GROUP] for start in range(0, len(code), GROUP))


def canonical(typed: str) -> str | None:
    """The code as generated, from what a person typed (any case, spaces, dashes, Persian or
    Arabic digits); None when it cannot be one of ours."""
    code = receipt_code(typed)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def digest(code: str) -> bytes:
    return hashlib.sha256(code.encode("ascii")).digest()


def find(petition, typed: str) -> Signature | None:
    code = canonical(typed)
    if code is None:
        return None
    return (
        Signature.objects.filter(petition_id=petition.pk, receipt=digest(code))
        .only("status", "created_at", "confirmed_at", "counted_at", "changed_at", "removal_reason")
        .first()
    )


@dataclass(frozen=True)
class State:
    """All that a receipt tells: never a name, an address, a place or a comment."""

    status: str
    since: datetime.datetime | None
    reason: str = ""

    @property
    def can_withdraw(self) -> bool:
        return self.status != Signature.Status.WITHDRAWN

    def reason_label(self) -> str:
        return str(Signature.Reason(self.reason).label) if self.reason else ""


def state_of(signature: Signature) -> State:
    status = signature.status
    if status == Signature.Status.COUNTED:
        # Restored: counted again since then; otherwise since it was first counted.
        since = signature.changed_at or signature.counted_at or signature.created_at
        return State(status, since)
    if status == Signature.Status.PENDING:
        return State(status, signature.created_at)
    reason = signature.removal_reason if status == Signature.Status.INVALIDATED else ""
    return State(status, signature.changed_at, reason)


# The code reaches the thank-you page in a cookie, never in its address: addresses end up in
# logs and in the Referer of every link followed from the page.


def remember(response, petition, code: str, *, embedded: bool, path: str | None = None) -> None:
    """`path`: the thank-you page's, when the caller has it already."""
    value = signing.dumps([petition.pk, code], salt=COOKIE_SALT)
    _set_cookie(response, petition, value, embedded, path=path)


def from_cookie(request, petition) -> str:
    """The code for this petition's thank-you page, grouped for reading; "" if none."""
    value = request.COOKIES.get(COOKIE_NAME)
    if not value:
        return ""
    try:
        petition_id, code = signing.loads(value, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return ""
    if petition_id != petition.pk or canonical(str(code)) is None:
        return ""
    return grouped(code)


def forget(request, response, petition, *, embedded: bool) -> None:
    """Shown once: the cookie goes with the page that showed it."""
    if COOKIE_NAME in request.COOKIES:
        _set_cookie(response, petition, "", embedded, max_age=0)


def _set_cookie(
    response,
    petition,
    value: str,
    embedded: bool,
    max_age: int = COOKIE_MAX_AGE,
    path: str | None = None,
):
    """Only the thank-you page's path receives it. In the widget's frame only a Partitioned,
    SameSite=None cookie arrives; Python 3.11's http.cookies knows no `Partitioned`, so it rides
    on the morsel's coded value (Morsel.set), beside the supporter cookie's own header."""
    if path is None:
        path = petition.get_embed_thanks_url() if embedded else petition.get_thanks_url()
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        secure=embedded or settings.SESSION_COOKIE_SECURE,
        samesite="None" if embedded else "Lax",
    )
    if embedded:
        response.cookies[COOKIE_NAME].set(COOKIE_NAME, value, f"{value}; Partitioned")
