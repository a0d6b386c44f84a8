"""Normalising what supporters type, before it is compared or stored.

Persian is typed on many keyboards: an Arabic layout gives ي and ك where Persian uses ی and ک,
phones offer Persian or Arabic-Indic digits, and text pasted from elsewhere carries invisible
direction controls that can reorder a name on the page. Two people typing the same thing must end
up with the same bytes, or a duplicate slips through and a moderator's search misses.
"""

import re
import unicodedata

# Arabic letters that Persian writes differently; the Persian forms are the canonical ones.
ARABIC_TO_PERSIAN = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي ARABIC YEH -> ی FARSI YEH
        "\u0649": "\u06cc",  # ى ALEF MAKSURA -> ی
        "\u0643": "\u06a9",  # ك ARABIC KAF -> ک KEHEH
    }
)
TO_ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# Embeddings, overrides and isolates (U+202A-202E, U+2066-2069): they can make a name display
# backwards or swallow the text after it. ZWNJ (U+200C) is part of Persian spelling and is kept.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Other invisible or control characters that have no business in a name or a comment.
OTHER_CONTROLS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\ufeff]")
SPACES = re.compile(r"[^\S\n]+")
# A name that is really a link or a spreadsheet formula.
URL_LIKE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.|\b[\w-]+\.(?:com|net|org|ir|io|info|xyz|ru|co|me|link|ly)\b)",
    re.IGNORECASE,
)
FORMULA_PREFIXES = ("=", "+", "-", "@")


def ascii_digits(value: str) -> str:
    return value.translate(TO_ASCII_DIGITS)


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFKC, Persian letter forms, no bidi or control characters, tidy spaces. ZWNJ stays."""
    if not value:  # most optional fields: nothing to normalise
        return ""
    if value.isascii() and value.isprintable():
        # Most names and most email addresses: NFKC, the letter forms and the controls leave
        # printable ASCII as it is, so only the spaces need tidying.
        return SPACES.sub(" ", value).strip()
    return _clean_any_text(value, multiline=multiline)


def _clean_any_text(value: str, *, multiline: bool) -> str:
    value = unicodedata.normalize("NFKC", value)
    value = value.translate(ARABIC_TO_PERSIAN)
    value = BIDI_CONTROLS.sub("", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = OTHER_CONTROLS.sub("", value)
    if not multiline:
        value = value.replace("\n", " ")
    value = SPACES.sub(" ", value)
    if multiline:
        value = re.sub(r" *\n *", "\n", value)
        value = re.sub(r"\n{3,}", "\n\n", value)
    return value.strip()


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


# The Persian alphabet in its own order. Unicode puts پ چ ژ گ after the Arabic letters and ک ی
# far from their neighbours, so a list sorted by code point reads out of order to a Persian eye.
PERSIAN_ALPHABET = "آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
PERSIAN_ORDER = {letter: chr(0x10000 + index) for index, letter in enumerate(PERSIAN_ALPHABET)}
# Hamza forms and Arabic letter variants sort with the letter they are written as.
PERSIAN_ORDER.update({"أ": PERSIAN_ORDER["ا"], "إ": PERSIAN_ORDER["ا"], "ؤ": PERSIAN_ORDER["و"]})
PERSIAN_ORDER.update({"ي": PERSIAN_ORDER["ی"], "ة": PERSIAN_ORDER["ه"]})


# Between words of a name, a space, a hyphen and a zero-width non-joiner sort alike.
WORD_BREAKS = re.compile(r"[\s\u200c-]+")


def collation_key(text: str) -> str:
    """A sort key that puts names in dictionary order in English and in Persian: Latin letters
    without their accents and case, Persian letters in the Persian alphabet's order, word by word
    (a hyphen or a zero-width non-joiner breaks words as a space does), tatweel and diacritics
    (madda and hamza included) ignored."""
    decomposed = unicodedata.normalize("NFKD", clean_text(text)).casefold()
    return "".join(
        PERSIAN_ORDER.get(ch, ch)
        for ch in WORD_BREAKS.sub(" ", decomposed)
        if not unicodedata.combining(ch) and ch != "\u0640"
    )


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
