"""The progress bar shows the thresholds: a tick at each on the bar's scale (the goal shown) and
each threshold's consequence in words beside it, in the page's language and digits; the widget
names the next one."""

import pytest

from petitions.models import Threshold, ThresholdReached
from tests.factories import make_petition, make_signature
from tests.html import elements

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_thresholds():
    Threshold.objects.create(
        number=500,
        consequence_en="a written response from the ministry",
        consequence_fa="پاسخ کتبی وزارت",
        owes_response=True,
        deadline_days=30,
    )
    Threshold.objects.create(number=100_000, consequence_en="a debate in parliament")


def page(client, petition, language="en") -> str:
    return client.get(f"/{language}/p/{petition.slug}/").content.decode()


def test_each_threshold_is_a_tick_on_the_bar_at_its_number(client, site_thresholds):
    petition = make_petition(goal=1000)
    html = page(client, petition)
    (marks,) = elements(html, "svg", class_="counter__marks")
    assert marks["viewbox"] == "0 0 1000 10"
    assert marks["aria-hidden"] == "true"
    assert [line["x1"] for line in elements(html, "line")] == ["500", "100000"]


def test_each_threshold_is_also_said_in_words(client, site_thresholds):
    html = page(client, make_petition(goal=1000))
    assert "500 signatures" in html
    assert "a written response from the ministry" in html
    assert "Not reached yet" in html
    # Beyond the bar's scale: the words say so, the tick falls outside the viewBox.
    assert "100,000 signatures" in html and "Beyond the current goal" in html


def test_the_persian_page_says_them_in_persian_with_persian_digits(client, site_thresholds):
    html = page(client, make_petition(goal=1000), "fa")
    assert "۵۰۰ امضا" in html and "پاسخ کتبی وزارت" in html
    assert "۱۰۰٬۰۰۰ امضا" in html
    # No Persian text: the English, marked as English.
    assert '<span class="thresholds__consequence" lang="en" dir="ltr">a debate' in html
    (marks,) = elements(html, "svg", class_="counter__marks")
    assert marks["viewbox"] == "0 0 1000 10"  # the markup stays ASCII


def test_a_reached_threshold_says_when_and_the_deadline(client, site_thresholds):
    petition = make_petition(goal=1000)
    make_signature(petition)
    ThresholdReached.objects.create(
        petition=petition,
        number=500,
        consequence_en="a written response from the ministry",
        owes_response=True,
        count=500,
    )
    html = page(client, petition)
    assert "Reached on" in html
    assert elements(html, "line", class_="counter__mark counter__mark--reached")


def test_a_petition_without_thresholds_has_no_ticks_or_list(client):
    html = page(client, make_petition())
    assert "counter__marks" not in html and "thresholds__list" not in html


def test_the_widget_has_the_ticks_and_names_the_next_threshold(client, site_thresholds):
    petition = make_petition(goal=1000)
    html = client.get(f"/en/p/{petition.slug}/embed/").content.decode()
    assert elements(html, "svg", class_="counter__marks")
    assert "At 500:" in html and "a written response from the ministry" in html
    fa = client.get(f"/fa/p/{petition.slug}/embed/").content.decode()
    assert "در ۵۰۰:" in fa


def test_a_closed_petition_shows_only_the_thresholds_it_reached(client, site_thresholds):
    petition = make_petition(goal=1000)
    ThresholdReached.objects.create(
        petition=petition, number=500, consequence_en="a written response", count=500
    )
    petition.close(by="mo", reason="done")
    html = page(client, petition)
    assert "a written response" in html
    assert "a debate in parliament" not in html
    assert [line["x1"] for line in elements(html, "line")] == ["500"]
