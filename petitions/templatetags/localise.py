import datetime
import re

from django import template
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from lib import persian

register = template.Library()


@register.filter
def localnumber(value) -> str:
    """A whole number grouped and in the active language's digits."""
    if value in (None, ""):
        return ""
    return persian.format_number(int(value), translation.get_language())


_FACET_COUNT = re.compile(r" \((\d+)\)$")


@register.filter
def localchange(value) -> str:
    """A change to a count, signed ("+12", "−1,204") in the active language's digits."""
    value = int(value or 0)
    sign = "+" if value > 0 else "\u2212" if value < 0 else ""
    return sign + persian.format_number(abs(value), translation.get_language())


@register.filter
def facet_count(value) -> str:
    """A list filter's choice with its count, "Open (12)": Django writes the count in Latin
    digits, the reader gets theirs."""
    return _FACET_COUNT.sub(lambda match: f" ({localnumber(match.group(1))})", str(value))


@register.filter
def localdigits(value) -> str:
    """Any text with its ASCII digits shown in the active language's digits."""
    text = str(value)
    return persian.persian_digits(text) if translation.get_language() == "fa" else text


@register.filter
def localdate(value) -> str:
    """A date in the active language's calendar: Gregorian in English, Solar Hijri in Persian."""
    if not value:
        return ""
    return persian.format_date(value, translation.get_language())


@register.filter
def isolate(value, lang: str = "") -> str:
    """Wrap user or organiser text in <bdi> so a Latin name inside a Persian sentence (or the
    reverse) cannot reorder the words around it."""
    if lang:
        return format_html('<bdi lang="{}">{}</bdi>', lang, value)
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def counter_html(value) -> str:
    """The live counter's number, marked so the page script can update it in place."""
    return format_html('<strong class="counter__count" data-counter>{}</strong>', value)


@register.filter
def goal_html(value) -> str:
    """The goal inside the counter sentence, which the page script updates when a rung is passed."""
    return format_html('<span class="counter__goal" data-goal-text>{}</span>', value)


@register.filter
def localhoursince(value) -> str:
    """'3 hours ago' for a time kept only to the hour, counted in whole hours; 'this hour' for
    the current one."""
    if not value:
        return ""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    if value >= hour:
        return _("this hour")
    text = _("%(time)s ago") % {"time": timesince(value, hour, depth=1)}
    return persian.persian_digits(text) if translation.get_language() == "fa" else text


@register.simple_tag
def local_paginator_number(changelist, i):
    """The admin's page link (Django's paginator_number) with the page number in the reader's
    digits; the link itself keeps ASCII."""
    if i == changelist.paginator.ELLIPSIS:
        return format_html("{} ", changelist.paginator.ELLIPSIS)
    shown = persian.format_number(i, translation.get_language())
    if i == changelist.page_num:
        return format_html('<span class="this-page">{}</span> ', shown)
    return format_html(
        '<a href="{}"{}>{}</a> ',
        changelist.get_query_string({"p": i}),
        mark_safe(' class="end"') if i == changelist.paginator.num_pages else "",
        shown,
    )


@register.filter
def machine_time(value) -> str:
    """A moment for a <time datetime>: ISO 8601 to the second. Django's "c" format adds six
    digits of microseconds, which the HTML standard does not allow there."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.replace(microsecond=0)
    return value.isoformat()
