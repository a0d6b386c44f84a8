"""Persian as its readers and writers expect it: digits, Solar Hijri dates, normalising what is
typed, dictionary order, and tidying organisers' spacing.

Persian pages show Persian digits (۰–۹) with the Arabic thousands separator (٬) and Solar Hijri
dates. Only the visible text changes: JSON, form values and attributes a script reads stay ASCII,
so the formatting helpers are used from template filters, never on data.

Persian is typed on many keyboards: an Arabic layout gives ي and ك where Persian uses ی and ک,
phones offer Persian or Arabic-Indic digits, and text pasted from elsewhere carries invisible
direction controls that can reorder a name on the page. Two people typing the same thing must end
up with the same bytes, or a duplicate slips through and a moderator's search misses.
"""

import datetime
import difflib
import re
import unicodedata

import jdatetime
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# The zero-width non-joiner (نیم‌فاصله): part of Persian spelling, kept wherever text is cleaned.
ZWNJ = "\u200c"

# -- digits -----------------------------------------------------------------------------------

ASCII_DIGITS, PERSIAN_DIGITS, ARABIC_INDIC_DIGITS = "0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"
TO_PERSIAN_DIGITS = str.maketrans(ASCII_DIGITS, PERSIAN_DIGITS)
ARABIC_INDIC_TO_PERSIAN = str.maketrans(ARABIC_INDIC_DIGITS, PERSIAN_DIGITS)
TO_ASCII_DIGITS = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, ASCII_DIGITS * 2)
PERSIAN_THOUSANDS_SEPARATOR = "\u066c"  # ٬


def persian_digits(text: str) -> str:
    return str(text).translate(TO_PERSIAN_DIGITS)


def ascii_digits(value: str) -> str:
    return value.translate(TO_ASCII_DIGITS)


# -- numbers and dates ------------------------------------------------------------------------

PERSIAN_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_number(value: int, language: str) -> str:
    """52222 -> '52,222' in English, '۵۲٬۲۲۲' in Persian."""
    grouped = f"{int(value):,}"
    if language == "fa":
        return persian_digits(grouped.replace(",", PERSIAN_THOUSANDS_SEPARATOR))
    return grouped


def format_percent(value: int, language: str) -> str:
    """50 -> '50%' in English, '۵۰٪' in Persian."""
    if language == "fa":
        return format_number(value, language) + "٪"
    return f"{format_number(value, language)}%"


def format_date(value: datetime.date | datetime.datetime, language: str) -> str:
    """A day as its readers write it: '10 November 2022' or '۱۹ آبان ۱۴۰۱' (Solar Hijri)."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if language == "fa":
        jalali = jdatetime.date.fromgregorian(date=value)
        return persian_digits(f"{jalali.day} {PERSIAN_MONTHS[jalali.month - 1]} {jalali.year}")
    return f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year}"


def format_datetime(value: datetime.datetime, language: str) -> str:
    """A moment as its readers write it, in the site's time zone: '1 December 2026, 07:35' or
    '۱۰ آذر ۱۴۰۵، ۰۷:۳۵'."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    day = format_date(value, language)
    if language == "fa":
        return f"{day}، {persian_digits(f'{value:%H:%M}')}"
    return f"{day}, {value:%H:%M}"


def month_name(year: int, month: int, language: str) -> str:
    """A month of the reader's calendar: 'December 2026' or 'آذر ۱۴۰۵'."""
    if language == "fa":
        return persian_digits(f"{PERSIAN_MONTHS[month - 1]} {year}")
    return f"{ENGLISH_MONTHS[month - 1]} {year}"


def calendar_date(value: datetime.date, language: str) -> tuple[int, int, int]:
    """(year, month, day) of a Gregorian day in the reader's calendar."""
    if language == "fa":
        jalali = jdatetime.date.fromgregorian(date=value)
        return jalali.year, jalali.month, jalali.day
    return value.year, value.month, value.day


def month_start(year: int, month: int, language: str) -> datetime.date:
    """The Gregorian day on which a month of the reader's calendar begins; month 13 is the first
    month of the next year."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    if language == "fa":
        return jdatetime.date(year, month, 1).togregorian()
    return datetime.date(year, month, 1)


def year_label(year: int, language: str) -> str:
    """A year of the reader's calendar, never grouped: '2026' or '۱۴۰۵'."""
    return persian_digits(str(year)) if language == "fa" else str(year)


# -- normalising what is typed ------------------------------------------------------------------

# Arabic letters that Persian writes differently; the Persian forms are the canonical ones.
ARABIC_TO_PERSIAN = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي ARABIC YEH -> ی FARSI YEH
        "\u0649": "\u06cc",  # ى ALEF MAKSURA -> ی
        "\u0643": "\u06a9",  # ك ARABIC KAF -> ک KEHEH
    }
)
# Embeddings, overrides and isolates (U+202A-202E, U+2066-2069): they can make a name display
# backwards or swallow the text after it. ZWNJ is not one of them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Other invisible or control characters that have no business in a name or a comment.
OTHER_CONTROLS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\ufeff]")
SPACES = re.compile(r"[^\S\n]+")


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


# -- dictionary order ---------------------------------------------------------------------------

# The Persian alphabet in its own order. Unicode puts پ چ ژ گ after the Arabic letters and ک ی
# far from their neighbours, so a list sorted by code point reads out of order to a Persian eye.
PERSIAN_ALPHABET = "آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
PERSIAN_ORDER = {letter: chr(0x10000 + index) for index, letter in enumerate(PERSIAN_ALPHABET)}
# Hamza forms and Arabic letter variants sort with the letter they are written as.
PERSIAN_ORDER.update({"أ": PERSIAN_ORDER["ا"], "إ": PERSIAN_ORDER["ا"], "ؤ": PERSIAN_ORDER["و"]})
PERSIAN_ORDER.update({"ي": PERSIAN_ORDER["ی"], "ة": PERSIAN_ORDER["ه"]})
# Between words of a name, a space, a hyphen and a zero-width non-joiner sort alike.
WORD_BREAKS = re.compile(rf"[\s{ZWNJ}-]+")


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


# -- tidying organisers' text -------------------------------------------------------------------
#
# A suggestion shown to the organiser as a diff. Text pasted from elsewhere often lost its ZWNJs
# ("میکند" for "می‌کند", "سازمانهای" for "سازمان‌های"), uses Latin punctuation and digits inside
# Persian sentences, and runs paragraphs together. The rules: Arabic letter forms and digits to
# Persian, ASCII digits inside Persian text to Persian; ZWNJ after می/نمی and بی, before ها/های,
# after a final ه before the verb endings, and in set compounds; Persian comma, semicolon, question
# mark and quotation marks; a blank line where one sentence-ending line runs into the next.
#
# Our own rules rather than a library: hazm pulls in NumPy, gensim, fastText and NLTK and misses
# "سازمانهای"; python-negar is GPL-3.0. A joined "Xهای" is either X + "های" (سازمانهای) or
# "Xه" + "ای" (خامنهای); without a dictionary the text decides: if it writes "Xه" as a word
# anywhere, it is "Xه‌ای", otherwise the plural.

LETTER = "\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a9\u06af\u06c0\u06cc\u0622"
WORD = re.compile(rf"[{LETTER}\u064b-\u0655{ZWNJ}]+")
PERSIAN_LETTER = re.compile(rf"[{LETTER}]")

# Set compounds, as pasted (with a space or joined) -> as written.
COMPOUNDS = {
    "آیت الله": "آیت‌الله",
    "آیتالله": "آیت‌الله",
    "بهطور": "به‌طور",
    "به طوری که": "به‌طوری‌که",
    "درحالیکه": "درحالی‌که",
    "حالیکه": "حالی‌که",
    "اینکه": "این‌که",
    "آنکه": "آن‌که",
    "اینها": "این‌ها",
    "آنها": "آن‌ها",
    "فنآوری": "فن‌آوری",
}
# Present and past stems that take the prefix می/نمی, for the joined "میکند" (a space-separated
# "می کند" needs no list). Common verbs only: a verb left out is simply not suggested.
VERB_STEMS = (  # noqa: SIM905 - a list of words reads best as words
    "کن کرد شو شد خواه خواست توان توانست دان دانست گوی گو گفت رو رفت آی آمد ده داد گیر گرفت "
    "بین دید یاب یافت دار داشت آور آورد نویس نوشت ساز ساخت رس رسید گذار گذاشت پذیر پذیرفت "
    "مان ماند کوش کوشید خوان خواند پرداز پرداخت ترس ترسید زن زد کش کشید بر برد خور خورد "
    "فرست فرستاد شناس شناخت سوز سوخت پرس پرسید جنگ جنگید"
).split()
VERB_ENDINGS = ("", "م", "ی", "د", "یم", "ید", "ند", "ه", "ن")
JOINED_VERB = re.compile(
    rf"(?<![{LETTER}])(ن?می)((?:{'|'.join(sorted(VERB_STEMS, key=len, reverse=True))})"
    rf"(?:{'|'.join(e for e in VERB_ENDINGS if e)})?)(?![{LETTER}])"
)
SPACED_PREFIX = re.compile(rf"(?<![{LETTER}{ZWNJ}])(ن?می|بی) (?=[{LETTER}])")
# The plural and its possessive forms.
PLURAL = "ها|های|هایی|هایم|هایت|هایش|هایمان|هایتان|هایشان"
SPACED_PLURAL = re.compile(rf"(?<=[{LETTER}]) ({PLURAL})(?![{LETTER}])")
JOINED_PLURAL = re.compile(rf"(?<![{LETTER}{ZWNJ}])([{LETTER}]{{2,}}?)({PLURAL})(?![{LETTER}])")
# Words that end in "ها"/"های" of their own.
NOT_PLURAL_STEMS = {"تن", "ب", "ر", "اژد", "گ", "سپا", "را", "نگا", "پنا"}
# After a final ه: the verb endings and the indefinite ای (شده‌اند، خانه‌ای).
AFTER_FINAL_HEH = "اند|ام|ای|ایم|اید"
SPACED_AFTER_HEH = re.compile(rf"(?<=[{LETTER}]ه) ({AFTER_FINAL_HEH})(?![{LETTER}])")
JOINED_AFTER_HEH = re.compile(rf"(?<=[{LETTER}]ه)(اند|سازی|ساز)(?![{LETTER}])")
# "استفادهی": the ezafe ی after a final ه, when the text writes "Xه" as a word of its own.
JOINED_EZAFE = re.compile(rf"(?<![{LETTER}{ZWNJ}])([{LETTER}]{{2,}}ه)ی(?![{LETTER}])")
# Letters that never join the next one: a ZWNJ after them changes nothing.
NON_JOINING = set("اآدذرزژوۀة")
SUPERLATIVE = re.compile(rf"(?<=[{LETTER}]) (ترین)(?![{LETTER}])")

PERSIAN_PUNCTUATION = {",": "،", ";": "؛", "?": "؟"}
SPACE_BEFORE_MARK = re.compile(r"[ \t]+([،؛؟.!:)»])")
NO_SPACE_AFTER_MARK = re.compile(rf"([،؛؟!])(?=[{LETTER}«(])")
SPACE_INSIDE_OPENER = re.compile(r"([(«]) +")
QUOTED = re.compile(rf'"([^"\n]*[{LETTER}][^"\n]*)"')
DOUBLE_SPACES = re.compile(r"[ \t]{2,}")
# A ZWNJ beside a space, or not between two letters, does nothing but confuse a search.
ZWNJ_BY_SPACE = re.compile(rf" +{ZWNJ}+ *| *{ZWNJ}+ +")
ZWNJ_NOT_BETWEEN_LETTERS = re.compile(rf"(?<![{LETTER}]){ZWNJ}+|{ZWNJ}+(?![{LETTER}])")
# A line ending a sentence, followed by a single line break and more text: a lost paragraph
# break (the letter renders a single break as <br>, so the paragraphs ran together).
RUN_TOGETHER = re.compile(r"([.!؟?:])[ \t]*\n(?=[^\n])")
ASCII_NUMBER = re.compile(r"(?<![\w/.:@-])\d+(?:[.,/]\d+)*(?![\w/@-])")
LATIN = re.compile(r"[A-Za-z]")


def tidy_persian(text: str, *, context: str = "") -> str:
    """The text with Persian spacing, punctuation and digits tidied. `context` is more of the same
    author's text (the title, the summary) for telling "خامنه‌ای" from "سازمان‌های"."""
    if not text or not PERSIAN_LETTER.search(text):
        return text
    text = text.replace("\r\n", "\n").translate(ARABIC_TO_PERSIAN)
    text = text.translate(ARABIC_INDIC_TO_PERSIAN)
    known = _words(f"{context}\n{text}")
    lines = [_tidy_line(line, known) for line in text.split("\n")]
    text = "\n".join(lines)
    text = RUN_TOGETHER.sub(lambda m: m.group(1) + "\n\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _words(text: str) -> set[str]:
    """Every word the text writes on its own (split at spaces, punctuation and ZWNJ)."""
    return {part for word in WORD.findall(text) for part in word.split(ZWNJ) if part}


def _tidy_line(line: str, known: set[str]) -> str:
    if not PERSIAN_LETTER.search(line):
        return line
    line = ZWNJ_BY_SPACE.sub(" ", line)
    line = ZWNJ_NOT_BETWEEN_LETTERS.sub("", line)
    line = DOUBLE_SPACES.sub(" ", line)
    for pasted, written in COMPOUNDS.items():
        line = re.sub(rf"(?<![{LETTER}]){pasted}(?![{LETTER}])", written, line)
    line = SPACED_PREFIX.sub(lambda m: m.group(1) + ZWNJ, line)
    line = JOINED_VERB.sub(lambda m: m.group(1) + ZWNJ + m.group(2), line)
    line = JOINED_PLURAL.sub(lambda m: _plural(m, known), line)
    line = SPACED_PLURAL.sub(lambda m: ZWNJ + m.group(1), line)
    line = SPACED_AFTER_HEH.sub(lambda m: ZWNJ + m.group(1), line)
    line = JOINED_AFTER_HEH.sub(lambda m: ZWNJ + m.group(1), line)
    line = JOINED_EZAFE.sub(
        lambda m: m.group(1) + ZWNJ + "ی" if m.group(1) in known else m.group(0), line
    )
    line = SUPERLATIVE.sub(lambda m: ZWNJ + m.group(1), line)
    line = _punctuation(line)
    return " ".join(_digits(token) for token in line.split(" "))


def _plural(match: re.Match, known: set[str]) -> str:
    stem, suffix = match.group(1), match.group(2)
    if stem in NOT_PLURAL_STEMS:
        return match.group(0)
    if suffix.startswith("های") and stem + "ه" in known:
        # "خامنهای": "خامنه" is a word of this text, so this is خامنه + ای.
        return stem + "ه" + ZWNJ + suffix[1:]
    if stem[-1] in NON_JOINING:
        return match.group(0)  # "بارها" shows as it should already
    return stem + ZWNJ + suffix


def _punctuation(line: str) -> str:
    def persian_mark(match: re.Match) -> str:
        return PERSIAN_PUNCTUATION[match.group(1)]

    line = re.sub(rf"(?<=[{LETTER}]) *([,;?])", persian_mark, line)
    line = QUOTED.sub(lambda m: f"«{m.group(1).strip()}»", line)
    line = SPACE_BEFORE_MARK.sub(r"\1", line)
    line = SPACE_INSIDE_OPENER.sub(r"\1", line)
    return NO_SPACE_AFTER_MARK.sub(r"\1 ", line)


def _digits(token: str) -> str:
    """ASCII digits in a Persian token become Persian; a Latin word, an address or a number
    standing among Latin text keeps them."""
    if LATIN.search(token) or "://" in token or "@" in token:
        return token
    return ASCII_NUMBER.sub(lambda m: m.group(0).translate(TO_PERSIAN_DIGITS), token)


def diff_html(before: str, after: str) -> SafeString:
    """The change as the organiser reviews it: removed text struck through, added text marked, and
    each added ZWNJ shown as a visible mark (it has no width of its own)."""
    # Character by character, so that a ZWNJ added inside a word shows where it goes.
    tokens_before, tokens_after = list(before), list(after)
    parts = []
    matcher = difflib.SequenceMatcher(a=tokens_before, b=tokens_after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(_shown("".join(tokens_before[a1:a2])))
            continue
        if a2 > a1:
            parts.append(format_html("<del>{}</del>", _shown("".join(tokens_before[a1:a2]))))
        if b2 > b1:
            parts.append(format_html("<ins>{}</ins>", _shown("".join(tokens_after[b1:b2]))))
    return format_html_join("", "{}", ((part,) for part in parts))


def _shown(text: str) -> SafeString:
    pieces = re.split(f"({ZWNJ}|\n)", text)
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html('<span class="zwnj" title="ZWNJ">{}</span>', ZWNJ + "|")
                if piece == ZWNJ
                else mark_safe("<br>")
                if piece == "\n"
                else piece,
            )
            for piece in pieces
            if piece
        ),
    )
