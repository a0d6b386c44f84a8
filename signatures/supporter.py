"""Remembering a supporter between petitions, for one-click signing.

After someone signs, a signed, HttpOnly cookie keeps what they typed (name, email, country,
locality) so that the next petition can offer "Sign as Sara K." without the form. It holds only what
this browser's user typed themselves, never data looked up from the database: a stranger who types
someone else's email gets back only their own typing, so the cookie cannot reveal whether that
address had signed. The signature (HMAC with SECRET_KEY) stops anyone from forging one.
"""

from dataclasses import dataclass, replace

from django.conf import settings
from django.core import signing

from .models import PLACE_NEVER_SHOWN
from .normalise import clean_text

COOKIE_NAME = "supporter"
# The widget's copy, kept by a browser inside another site's frame (issue 17). A SameSite=Lax
# cookie never reaches a cross-site iframe; this one is SameSite=None, Secure and Partitioned
# (CHIPS), so the browser keeps it apart for each site that frames the widget: a reader who signed
# in the widget on one news site is offered one click there, and nowhere else learns of it.
# Browsers that block even partitioned cookies simply show the form.
EMBED_COOKIE_NAME = "supporter_embed"
COOKIE_SALT = "signatures.supporter"
COOKIE_MAX_AGE = 180 * 24 * 3600
# How many petitions the cookie remembers having been signed from this browser.
SIGNED_KEPT = 50


@dataclass(frozen=True)
class Supporter:
    name: str
    email: str
    country: str
    locality: str = ""
    # Set once this browser confirmed the address through an emailed link: petitions that need
    # confirmation then take its one-click signature without another email.
    confirmed: bool = False
    # Whether they chose to be shown on the last petition they signed with the form: one click
    # repeats that choice. False for a cookie from before it was kept (issue 20).
    show_name: bool = False
    # Petitions signed from this browser, newest last: its page then says "You signed this
    # petition" instead of offering to sign again (issue 21). What this browser did itself, never
    # looked up by the email, which would tell anyone who typed an address whether it had signed.
    signed: tuple[int, ...] = ()

    @property
    def short_name(self) -> str:
        """'Sara Karimi' -> 'Sara K.': enough for the button, not a full identity."""
        return short_name(self.name)

    def is_first_name(self, typed: str) -> bool:
        """Whether `typed` starts with the first name this browser signed with, in any case and
        however its letters were keyed (Arabic or Persian Yeh)."""
        typed_words = clean_text(typed).casefold().split()
        own_words = clean_text(self.name).casefold().split()
        return bool(typed_words and own_words) and typed_words[0] == own_words[0]

    def has_signed(self, petition_id: int) -> bool:
        return petition_id in self.signed

    def with_signed(self, petition_id: int) -> "Supporter":
        kept = [pk for pk in self.signed if pk != petition_id][-(SIGNED_KEPT - 1) :]
        return replace(self, signed=(*kept, petition_id))


def short_name(name: str) -> str:
    """First name and initial, from the words that hold letters: an emoji or a stray digit or
    bracket is never taken for a name or an initial."""
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
        # The cookie is signed, not encrypted: whoever holds the phone can read it. For a signer
        # in Iran it keeps no city, which the petition never shows anyway (issue 20).
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
    """The widget's Set-Cookie header, written out because Django 5.2's set_cookie (and Python
    3.11's http.cookies) know no `Partitioned` attribute. The value is URL-safe base64 from
    django.core.signing, which needs no quoting. Secure always: browsers drop a SameSite=None
    cookie without it (they accept it from http://localhost for development)."""
    return (
        f"{EMBED_COOKIE_NAME}={value}; Max-Age={max_age}; Path=/; "
        "HttpOnly; Secure; SameSite=None; Partitioned"
    )


def forget(response) -> None:
    """Both copies: the page's, and the widget's, which only a Set-Cookie with its own attributes
    (Partitioned) from inside the same frame's partition deletes."""
    response.delete_cookie(COOKIE_NAME, samesite="Lax")
    response["Set-Cookie"] = embed_cookie("", 0)
