"""Turn the seed page (shared/seeds) into petitions/demo/seed-petition.json, by
`manage.py import_seed_page`, so running the site never needs the original page."""

import datetime
import re

from lib.persian import tidy_persian

# The page carries no Persian title or summary; these are our translations of its English ones.
TITLE_FA = "ایلان ماسک: آیت‌الله خامنه‌ای را از توییتر اخراج کنید"
SUMMARY_FA = (
    "ایلان ماسک از زمانی که در اواخر اکتبر رسماً توییتر را در دست گرفت، دیدگاه خود دربارهٔ "
    "آزادی بیان را دنبال کرده است. اما بسیاری از بی‌میلی او به مهار گسترش سخنان نفرت‌پراکن در "
    "این پلتفرم انتقاد کرده‌اند. امیلی این کارزار را آغاز کرد، چون به نظر او دست‌کم یک مورد روشن "
    "برای حذف از توییتر تازه وجود دارد: آیت‌الله خامنه‌ای، رهبر جمهوری اسلامی ایران. به گفتهٔ "
    "امیلی، رژیم سرکوبگر او از حضورش در توییتر مشروعیت می‌گیرد؛ خامنه‌ای از این بستر برای "
    "پشتیبانی از سرکوب و تروریسم دولتی استفاده می‌کند. اگر موافقید که حمایت از آزادی بیان نباید "
    "شامل دیکتاتورهایی شود که خود به آزادی بیان باور ندارند، کارزار امیلی را امضا کنید."
)
ADDRESSED_TO_FA = "ایلان ماسک"
# The starter's name as the Persian page writes it (the summary calls her امیلی).
STARTER_FA = "امیلی شریدر"

COUNTER_LINE = re.compile(
    r"^([\d,]+)\s+have\s+signed\s+(.+?)’s\s+petition\.\s+Let’s\s+get\s+to\s+([\d,]+)!$"
)
TITLE_LINE = re.compile(r"^(?P<date>\w+day, \w+ \d+, \d{4}) Petition: (?P<title>.+)$")


class SeedPageError(ValueError):
    pass


def _between(lines: list[str], first: str, last: str) -> str:
    """The lines from the one starting with `first` to the one starting with `last`, inclusive,
    as paragraphs: blank lines between them stay, trailing spaces go."""
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(first))
        end = next(i for i, line in enumerate(lines) if i >= start and line.startswith(last))
    except StopIteration as exc:
        raise SeedPageError(f"could not find the text from {first!r} to {last!r}") from exc
    body = "\n".join(line.rstrip() for line in lines[start : end + 1])
    return re.sub(r"\n{3,}", "\n\n", body)


def parse_seed_page(text: str) -> dict:
    lines = text.splitlines()
    header = TITLE_LINE.match(lines[0].strip())
    if not header:
        raise SeedPageError("the first line should read '<date> Petition: <title>'")
    title = header["title"].strip()
    opened = datetime.datetime.strptime(header["date"], "%A, %B %d, %Y").date()

    paragraphs = [line.strip() for line in lines[1:] if line.strip()]
    summary = paragraphs[0]
    counter = next((COUNTER_LINE.match(p) for p in paragraphs if COUNTER_LINE.match(p)), None)
    if counter is None:
        raise SeedPageError("no counter line ('N have signed X’s petition. Let’s get to G!')")
    signed, starter, goal = counter.groups()

    addressed_to = title.split(":", 1)[0].strip()
    return {
        "slug": "ban-khamenei-from-twitter",
        "status": "open",
        "starter_name": starter,
        "starter_name_fa": STARTER_FA,
        "addressed_to_en": addressed_to,
        "addressed_to_fa": ADDRESSED_TO_FA,
        "title_en": title,
        "title_fa": TITLE_FA,
        "summary_en": summary,
        "summary_fa": SUMMARY_FA,
        "letter_en": _between(lines, f"Dear {addressed_to}", "Mr. Musk, ban"),
        # The page's Persian lost its ZWNJs and paragraph breaks when it was pasted; it is kept
        # as the admin's "tidy Persian spacing" step would leave it.
        "letter_fa": tidy_persian(
            _between(lines, "آقای ایلان ماسک عزیز", "آقای ماسک، توییتر"),
            context=f"{TITLE_FA}\n{SUMMARY_FA}",
        ),
        "original_language": "en",
        "goal": int(goal.replace(",", "")),
        "opened_at": opened.isoformat(),
        "signatures": int(signed.replace(",", "")),
    }
