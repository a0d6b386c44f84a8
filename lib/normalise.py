"""Normalising what supporters type beyond the Persian rules (lib.persian): codes and email
addresses as compared, names that are really links, and where a signature came from."""

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
    """Emails, postcodes and the like: the text rules plus ASCII digits, no inner spaces."""
    return ascii_digits(clean_text(value))


# Providers known to deliver every dotted spelling of a local part to one mailbox, and the one
# domain their addresses are compared under. Elsewhere a dot may be a real letter of the name.
DOTS_IGNORED = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_email(value: str) -> str:
    """The form duplicates are judged by: one mailbox, however it was typed. Never an address to
    write to. A "+tag" is dropped for every domain (most providers deliver it to the mailbox
    before the "+", and elsewhere it still lets one person make endless addresses); dots are
    dropped only where the provider ignores them (DOTS_IGNORED)."""
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
    """Why a (cleaned) name cannot be used, or None."""
    if value.startswith(FORMULA_PREFIXES):
        return "formula"
    if URL_LIKE.search(value):
        return "url"
    if not any(ch.isalpha() for ch in value):
        return "letters"
    return None


# Where a signature came from (Signature.source): "page", "widget:<host>" or "link:<tag>".
SOURCE_KINDS = ("page", "widget", "link")
SOURCE_MAX_LENGTH = 80
NOT_IN_SOURCE = re.compile(r"[^a-z0-9.:_~-]+")


def clean_source(value: str) -> str:
    """A source as stored: NFKC, lower case, ASCII letters, digits and `. : _ ~ -` only (anything
    else dropped), at most SOURCE_MAX_LENGTH characters. Anything not of a known kind is "page";
    a widget whose host is unknown is "widget". It comes from hidden fields and headers, so it is
    a tally for organisers, never proof."""
    value = NOT_IN_SOURCE.sub("", unicodedata.normalize("NFKC", value or "").lower())
    kind, _colon, detail = value.partition(":")
    if kind not in SOURCE_KINDS or kind == "page":
        return "page"
    if not detail.strip(".:_~-"):
        return "widget" if kind == "widget" else "page"
    return value[:SOURCE_MAX_LENGTH]
