"""Persian digits, Solar Hijri dates, normalising what is typed, dictionary order, tidying text.

The formatting helpers are for visible text only: JSON, form values and attributes stay ASCII.
"""

import datetime
import difflib
import re
import unicodedata

import jdatetime
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Part of Persian spelling: kept wherever text is cleaned.
ZWNJ = "\u200c"

ASCII_DIGITS, PERSIAN_DIGITS, ARABIC_INDIC_DIGITS = "0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"
TO_PERSIAN_DIGITS = str.maketrans(ASCII_DIGITS, PERSIAN_DIGITS)
ARABIC_INDIC_TO_PERSIAN = str.maketrans(ARABIC_INDIC_DIGITS, PERSIAN_DIGITS)
TO_ASCII_DIGITS = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, ASCII_DIGITS * 2)
PERSIAN_THOUSANDS_SEPARATOR = "\u066c"  # ٬


def persian_digits(text: str) -> str:
    return str(text).translate(TO_PERSIAN_DIGITS)


def ascii_digits(value: str) -> str:
    return value.translate(TO_ASCII_DIGITS)


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
    grouped = f"{int(value):,}"
    if language == "fa":
        return persian_digits(grouped.replace(",", PERSIAN_THOUSANDS_SEPARATOR))
    return grouped


def format_percent(value: int, language: str) -> str:
    if language == "fa":
        return format_number(value, language) + "٪"
    return f"{format_number(value, language)}%"


def format_date(value: datetime.date | datetime.datetime, language: str) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if language == "fa":
        jalali = jdatetime.date.fromgregorian(date=value)
        return persian_digits(f"{jalali.day} {PERSIAN_MONTHS[jalali.month - 1]} {jalali.year}")
    return f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year}"


def format_datetime(value: datetime.datetime, language: str) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    day = format_date(value, language)
    if language == "fa":
        return f"{day}، {persian_digits(f'{value:%H:%M}')}"
    return f"{day}, {value:%H:%M}"


def month_name(year: int, month: int, language: str) -> str:
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
    """The Gregorian first day of a month of the reader's calendar; month 13 is next January."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    if language == "fa":
        return jdatetime.date(year, month, 1).togregorian()
    return datetime.date(year, month, 1)


def year_label(year: int, language: str) -> str:
    return persian_digits(str(year)) if language == "fa" else str(year)


# An Arabic keyboard gives ي and ك: two people typing the same name must get the same bytes.
ARABIC_TO_PERSIAN = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي ARABIC YEH -> ی FARSI YEH
        "\u0649": "\u06cc",  # ى ALEF MAKSURA -> ی
        "\u0643": "\u06a9",  # ك ARABIC KAF -> ک KEHEH
    }
)
# They can make a name display backwards or swallow the text after it.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
OTHER_CONTROLS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\ufeff]")
SPACES = re.compile(r"[^\S\n]+")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFKC, Persian letter forms, no bidi or control characters, tidy spaces. ZWNJ stays."""
    if not value:
        return ""
    if value.isascii() and value.isprintable():  # the common case, which NFKC leaves alone
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


# Unicode puts پ چ ژ گ after the Arabic letters and ک ی far from their neighbours.
PERSIAN_ALPHABET = "آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
PERSIAN_ORDER = {letter: chr(0x10000 + index) for index, letter in enumerate(PERSIAN_ALPHABET)}
PERSIAN_ORDER.update({"أ": PERSIAN_ORDER["ا"], "إ": PERSIAN_ORDER["ا"], "ؤ": PERSIAN_ORDER["و"]})
PERSIAN_ORDER.update({"ي": PERSIAN_ORDER["ی"], "ة": PERSIAN_ORDER["ه"]})
WORD_BREAKS = re.compile(rf"[\s{ZWNJ}-]+")


def collation_key(text: str) -> str:
    """Dictionary order in English and Persian, word by word, ignoring case and diacritics."""
    decomposed = unicodedata.normalize("NFKD", clean_text(text)).casefold()
    return "".join(
        PERSIAN_ORDER.get(ch, ch)
        for ch in WORD_BREAKS.sub(" ", decomposed)
        if not unicodedata.combining(ch) and ch != "\u0640"
    )


# Tidying pasted text, shown to the organiser as a suggestion. Not hazm (NumPy, gensim, NLTK, and
# it misses "سازمانهای") nor negar (GPL-3.0). Without a dictionary, a joined "Xهای" is "Xه‌ای" if
# the text writes "Xه" as a word anywhere, otherwise the plural.

LETTER = "\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a9\u06af\u06c0\u06cc\u0622"
WORD = re.compile(rf"[{LETTER}\u064b-\u0655{ZWNJ}]+")
PERSIAN_LETTER = re.compile(rf"[{LETTER}]")

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
# For the joined "میکند"; a verb left out is simply not suggested.
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
PLURAL = "ها|های|هایی|هایم|هایت|هایش|هایمان|هایتان|هایشان"
SPACED_PLURAL = re.compile(rf"(?<=[{LETTER}]) ({PLURAL})(?![{LETTER}])")
JOINED_PLURAL = re.compile(rf"(?<![{LETTER}{ZWNJ}])([{LETTER}]{{2,}}?)({PLURAL})(?![{LETTER}])")
# Words that end in "ها"/"های" of their own.
NOT_PLURAL_STEMS = {"تن", "ب", "ر", "اژد", "گ", "سپا", "را", "نگا", "پنا"}
AFTER_FINAL_HEH = "اند|ام|ای|ایم|اید"
SPACED_AFTER_HEH = re.compile(rf"(?<=[{LETTER}]ه) ({AFTER_FINAL_HEH})(?![{LETTER}])")
JOINED_AFTER_HEH = re.compile(rf"(?<=[{LETTER}]ه)(اند|سازی|ساز)(?![{LETTER}])")
# "استفادهی"
JOINED_EZAFE = re.compile(rf"(?<![{LETTER}{ZWNJ}])([{LETTER}]{{2,}}ه)ی(?![{LETTER}])")
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
# A lost paragraph break: the letter renders a single break as <br>.
RUN_TOGETHER = re.compile(r"([.!؟?:])[ \t]*\n(?=[^\n])")
ASCII_NUMBER = re.compile(r"(?<![\w/.:@-])\d+(?:[.,/]\d+)*(?![\w/@-])")
LATIN = re.compile(r"[A-Za-z]")


def tidy_persian(text: str, *, context: str = "") -> str:
    """`context` is more of the author's text, for telling "خامنه‌ای" from "سازمان‌های"."""
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
    if LATIN.search(token) or "://" in token or "@" in token:
        return token
    return ASCII_NUMBER.sub(lambda m: m.group(0).translate(TO_PERSIAN_DIGITS), token)


def diff_html(before: str, after: str) -> SafeString:
    """Character by character, each ZWNJ made visible, so that one added inside a word shows."""
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
