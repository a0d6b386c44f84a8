"""Numbers and dates the way a Persian reader expects them.

Persian pages show Persian digits (۰–۹) with the Arabic thousands separator (٬) and Solar Hijri
dates. Only the visible text changes: JSON, form values and attributes a script reads stay ASCII,
so these helpers are used from template filters, never on data.
"""

import datetime

import jdatetime
from django.utils import timezone

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
PERSIAN_THOUSANDS_SEPARATOR = "\u066c"  # ٬
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


def persian_digits(text: str) -> str:
    return str(text).translate(PERSIAN_DIGITS)


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
