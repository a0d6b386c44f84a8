"""Tidy Persian spacing in organisers' text (issue 21), as a suggestion shown to them as a diff.

Text pasted from elsewhere often lost its zero-width non-joiners (ZWNJ, نیم‌فاصله): "میکند" for
"می‌کند", "خامنهای" for "خامنه‌ای", "سازمانهای" for "سازمان‌های"; it uses Latin punctuation and
digits inside Persian sentences, and runs paragraphs together. This module proposes the usual
fixes:

- Arabic letter forms (ي ك) and Arabic-Indic digits to the Persian ones; ASCII digits inside
  Persian text to Persian digits (not in Latin words, addresses or numbers next to Latin text);
- ZWNJ after the verb prefixes می/نمی and بی, before the plural ها/های and the verb endings
  after a final ه (شده‌اند), and in a few set compounds (آیت‌الله, به‌طور);
- Persian comma, semicolon, question mark and quotation marks in Persian sentences, no space
  before punctuation and one after;
- a blank line where one sentence-ending line runs straight into the next (a paragraph break).

Why our own rules rather than a library: hazm's Normalizer (the maintained Persian toolkit) pulls
in NumPy, gensim, fastText and NLTK for a button in the admin, drops the tanvin of "قطعاً", and
leaves "خامنهای" and "سازمانهای" as they are; python-negar is GPL-3.0; hazm-normalizer is a one-
person fork that still needs NLTK. The rules here are few, tested one by one in
tests/test_persian_tidy.py, and every change is shown to the organiser before it is saved.

A joined "Xهای" is either X + the plural "های" (سازمانهای) or "Xه" + "ای" (خامنهای); without a
dictionary the text itself decides: if "Xه" is written as a word anywhere in it (the title's
"خامنه‌ای" does), it is "Xه‌ای", otherwise the plural.
"""

import difflib
import re

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from signatures.normalise import ARABIC_TO_PERSIAN

ZWNJ = "\u200c"
LETTER = "\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a9\u06af\u06c0\u06cc\u0622"
WORD = re.compile(rf"[{LETTER}\u064b-\u0655{ZWNJ}]+")
PERSIAN_LETTER = re.compile(rf"[{LETTER}]")
ARABIC_INDIC_TO_PERSIAN = str.maketrans("٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹")
ASCII_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

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
SPACES = re.compile(r"[ \t]{2,}")
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
    line = SPACES.sub(" ", line)
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
    return ASCII_NUMBER.sub(lambda m: m.group(0).translate(ASCII_TO_PERSIAN), token)


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
