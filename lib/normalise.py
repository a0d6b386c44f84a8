"""Codes and email addresses as compared, names that are really links, and sources."""

import re
import unicodedata

from .persian import ascii_digits, clean_text

# A name that is really a link or a spreadsheet formula.
URL_LIKE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.|\b[\w-]+\.(?:com|net|org|ir|io|info|xyz|ru|co|me|link|ly)\b)",
    re.IGNORECASE,
)
FORMULA_PREFIXES = ("=", "+", "-", "@")


def clean_code(value: str) -> str:
    return ascii_digits(clean_text(value))


# A receipt code as typed back: Crockford's base32 reads I and L as 1 and O as 0, and a phone
# keyboard or an email's copy adds dashes and spaces of every kind.
RECEIPT_MISREAD = str.maketrans({"I": "1", "L": "1", "O": "0"})
RECEIPT_SEPARATORS = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\u2212_.\u00a0\u200c")


def receipt_code(typed: str) -> str:
    """A receipt code as it was made, from what a person typed (any case, Persian digits)."""
    return clean_code(typed or "").upper().translate(RECEIPT_SEPARATORS).translate(RECEIPT_MISREAD)


# Elsewhere a dot may be a real letter of the name.
DOTS_IGNORED = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_email(value: str) -> str:
    """For judging duplicates, never for writing to. A "+tag" is dropped for every domain: it
    would let one person make endless addresses."""
    email = clean_code(value).replace(" ", "").lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    local = local.split("+", 1)[0] or local
    if domain in DOTS_IGNORED:
        domain = DOTS_IGNORED[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def name_problem(value: str) -> str | None:
    if value.startswith(FORMULA_PREFIXES):
        return "formula"
    if URL_LIKE.search(value):
        return "url"
    if not any(ch.isalpha() for ch in value):
        return "letters"
    return None


# "page", "widget:<host>" or "link:<tag>".
SOURCE_KINDS = ("page", "widget", "link")
SOURCE_MAX_LENGTH = 80
NOT_IN_SOURCE = re.compile(r"[^a-z0-9.:_~-]+")


def clean_source(value: str) -> str:
    """From hidden fields and headers: a tally for organisers, never proof."""
    value = NOT_IN_SOURCE.sub("", unicodedata.normalize("NFKC", value or "").lower())
    kind, _colon, detail = value.partition(":")
    if kind not in SOURCE_KINDS or kind == "page":
        return "page"
    if not detail.strip(".:_~-"):
        return "widget" if kind == "widget" else "page"
    return value[:SOURCE_MAX_LENGTH]
