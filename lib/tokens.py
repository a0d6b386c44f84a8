"""Tokens for emailed links: the row's id with a keyed hash of its email, so a link never acts on a
reused id or a changed address, and never carries the address (a URL ends up in logs)."""

import hashlib
import hmac
from collections.abc import Callable

from django.conf import settings
from django.core import signing

from .normalise import canonical_email


class InvalidToken(Exception):
    pass


class ExpiredToken(InvalidToken):
    pass


def email_proof(email_canonical: str, *, salt: str, secret: str | None = None) -> str:
    key = (secret or settings.SECRET_KEY).encode()
    message = f"{salt}.email\0{email_canonical}".encode()
    # 128 bits: the token's signature already stops forgery; this only tells addresses apart.
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def make_token(pk: int, email_canonical: str, *, salt: str) -> str:
    return signing.dumps([pk, email_proof(email_canonical, salt=salt)], salt=salt)


def read_token(
    token: str,
    *,
    salt: str,
    email_of: Callable[[int], str | None],
    max_age: float | None = None,
) -> tuple[int, str]:
    try:
        pk, proof = signing.loads(token, salt=salt, max_age=max_age)
        pk, proof = int(pk), str(proof)
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken from exc
    email = email_of(pk)
    if not email or not proves(proof, email, salt):
        raise InvalidToken
    return pk, email


def proves(proof: str, email_canonical: str, salt: str) -> bool:
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if any(
        hmac.compare_digest(proof, email_proof(email_canonical, salt=salt, secret=secret))
        for secret in secrets
    ):
        return True
    # Older links carry the address itself, and an unsubscribe link never expires.
    return "@" in proof and any(
        hmac.compare_digest(form.encode(), email_canonical.encode())
        for form in (proof, canonical_email(proof))
    )
