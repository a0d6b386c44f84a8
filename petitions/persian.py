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


def format_date(value: datetime.date | datetime.datetime, language: str) -> str:
    """A day as its readers write it: '10 November 2022' or '۱۹ آبان ۱۴۰۱' (Solar Hijri)."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if language == "fa":
        jalali = jdatetime.date.fromgregorian(date=value)
        return persian_digits(f"{jalali.day} {PERSIAN_MONTHS[jalali.month - 1]} {jalali.year}")
    return f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year}"
