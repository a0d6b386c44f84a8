import datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from lib.persian import format_date, format_number, persian_digits


def test_numbers_are_grouped_in_each_language():
    assert format_number(52222, "en") == "52,222"
    assert format_number(52222, "fa") == "۵۲٬۲۲۲"
    assert format_number(7, "fa") == "۷"


def test_persian_digits_leave_other_text_alone():
    assert persian_digits("goal 75000!") == "goal ۷۵۰۰۰!"


@pytest.mark.parametrize(
    ("day", "persian"),
    [
        (datetime.date(2022, 11, 10), "۱۹ آبان ۱۴۰۱"),
        (datetime.date(2023, 3, 21), "۱ فروردین ۱۴۰۲"),  # Nowruz
        (datetime.date(2024, 3, 19), "۲۹ اسفند ۱۴۰۲"),
    ],
)
def test_persian_dates_are_solar_hijri(day, persian):
    assert format_date(day, "fa") == persian


def test_english_dates_are_gregorian():
    assert format_date(datetime.date(2022, 11, 10), "en") == "10 November 2022"


def test_aware_datetimes_use_the_local_day():
    late = datetime.datetime(2022, 11, 10, 23, 30, tzinfo=datetime.UTC)
    assert format_date(late, "en") == "10 November 2022"


def test_filters_follow_the_active_language():
    template = Template(
        "{% load localise %}{{ n|localnumber }} {{ d|localdate }} {{ s|localdigits }}"
    )
    context = Context({"n": 1234, "d": datetime.date(2022, 11, 10), "s": "p. 12"})
    with translation.override("fa"):
        assert template.render(context) == "۱٬۲۳۴ ۱۹ آبان ۱۴۰۱ p. ۱۲"
    with translation.override("en"):
        assert template.render(context) == "1,234 10 November 2022 p. 12"


def test_isolate_wraps_names_so_they_cannot_reorder_the_sentence():
    template = Template("{% load localise %}{{ name|isolate }}")
    assert template.render(Context({"name": "<b>Sara</b>"})) == "<bdi>&lt;b&gt;Sara&lt;/b&gt;</bdi>"
