"""The supporter cookie, for one-click signing. It holds only what this browser typed, never what
the database knows of an email, so it cannot reveal whether an address had signed."""

from dataclasses import dataclass, replace

from django.conf import settings
from django.core import signing

from lib.persian import clean_text

from .models import PLACE_NEVER_SHOWN

COOKIE_NAME = "supporter"
# The widget's copy: Partitioned, so that the browser keeps it apart for each framing site and no
# other site learns of it.
EMBED_COOKIE_NAME = "supporter_embed"
COOKIE_SALT = "signatures.supporter"
COOKIE_MAX_AGE = 180 * 24 * 3600
SIGNED_KEPT = 50


@dataclass(frozen=True)
class Supporter:
    name: str
    email: str
    country: str
    locality: str = ""
    # Then petitions that need confirmation take a one click signature without another email.
    confirmed: bool = False
    # One click repeats the last form's choice; False for older cookies.
    show_name: bool = False
    # Newest last. Never looked up by email, which would tell whether an address had signed.
    signed: tuple[int, ...] = ()

    @property
    def short_name(self) -> str:
        return short_name(self.name)

    def is_first_name(self, typed: str) -> bool:
        typed_words = clean_text(typed).casefold().split()
        own_words = clean_text(self.name).casefold().split()
        return bool(typed_words and own_words) and typed_words[0] == own_words[0]

    def has_signed(self, petition_id: int) -> bool:
        return petition_id in self.signed

    def without_signed(self, petition_id: int) -> "Supporter":
        return replace(self, signed=tuple(pk for pk in self.signed if pk != petition_id))

    def with_signed(self, petition_id: int) -> "Supporter":
        kept = [pk for pk in self.signed if pk != petition_id][-(SIGNED_KEPT - 1) :]
        return replace(self, signed=(*kept, petition_id))


def short_name(name: str) -> str:
    """An emoji or a stray digit is never taken for a name or an initial."""
    words = [word for word in name.split() if any(ch.isalpha() for ch in word)]
    if len(words) < 2:
        return name
    initial = next(ch for ch in words[-1] if ch.isalpha())
    return f"{words[0]} {initial}."


def recall(request) -> Supporter | None:
    value = request.COOKIES.get(COOKIE_NAME) or request.COOKIES.get(EMBED_COOKIE_NAME)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
        data["signed"] = tuple(int(pk) for pk in data.get("signed", ()))
        return Supporter(**data)
    except (signing.BadSignature, TypeError, ValueError, AttributeError):
        return None


def remember(response, supporter: Supporter, *, embedded: bool = False) -> None:
    if supporter.country in PLACE_NEVER_SHOWN:
        # Signed, not encrypted: whoever holds the phone can read it.
        supporter = replace(supporter, locality="")
    # vars(), not asdict(): the values are strings, booleans and a tuple of ints, which asdict
    # would copy deeply for nothing.
    value = signing.dumps(vars(supporter), salt=COOKIE_SALT, compress=True)
    if embedded:
        response["Set-Cookie"] = embed_cookie(value, COOKIE_MAX_AGE)
        return
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def embed_cookie(value: str, max_age: int) -> str:
    """Written out: Python 3.11's http.cookies knows no `Partitioned` (3.14 does). Secure always,
    or browsers drop a SameSite=None cookie."""
    return (
        f"{EMBED_COOKIE_NAME}={value}; Max-Age={max_age}; Path=/; "
        "HttpOnly; Secure; SameSite=None; Partitioned"
    )


def forget(response) -> None:
    """The widget's copy goes only with its own attributes, from inside its partition."""
    response.delete_cookie(COOKIE_NAME, samesite="Lax")
    response["Set-Cookie"] = embed_cookie("", 0)
