"""Emailed links that act for one row and one address: a signature's confirmation, a starter's
link to their petition, an unsubscribe. The token signs the row's id together with the canonical
email, so a link never acts on a row that was erased and whose id was reused, nor after the
address on the row changed. Each kind has its own salt, so one kind's token is refused as
another."""

from django.core import signing

from .normalise import canonical_email


class InvalidToken(Exception):
    pass


class ExpiredToken(InvalidToken):
    pass


def make_token(pk: int, email_canonical: str, *, salt: str) -> str:
    return signing.dumps([pk, email_canonical], salt=salt, compress=True)


def read_token(token: str, *, salt: str, max_age: float | None = None) -> tuple[int, str]:
    """The (id, canonical email) a token was made for; `max_age` seconds, or no expiry."""
    try:
        pk, email = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken from exc
    return int(pk), str(email)


def stored_forms(email_canonical: str) -> list[str]:
    """The forms a token's address may be stored under: as it was signed, and as canonical_email
    makes it now, for a link emailed before the canonical form last changed."""
    return list({email_canonical, canonical_email(email_canonical)})
