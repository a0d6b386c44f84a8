"""The awaiting-response list: petitions past a threshold that calls for a response, with none
yet, how long each has waited (Persian digits on the Persian page) and whether it is overdue; a
petition leaves the list once its response is published."""

import datetime

import pytest
from django.utils import timezone

from petitions.models import Petition, ThresholdReached
from tests.factories import make_petition

pytestmark = pytest.mark.django_db


def reached(petition, number=10_000, days_ago=0, deadline_days=None, owes_response=True):
    when = timezone.now() - datetime.timedelta(days=days_ago)
    respond_by = when + datetime.timedelta(days=deadline_days) if deadline_days else None
    return ThresholdReached.objects.create(
        petition=petition,
        number=number,
        consequence_en="a written response",
        consequence_fa="پاسخ کتبی",
        owes_response=owes_response,
        count=number,
        reached_at=when,
        respond_by=respond_by,
    )


def test_a_petition_past_a_response_threshold_without_a_response_is_awaiting():
    petition = make_petition()
    reached(petition)
    assert list(Petition.objects.awaiting_response()) == [petition]


def test_a_threshold_that_calls_for_no_response_puts_nothing_on_the_list():
    reached(make_petition(), owes_response=False)
    assert list(Petition.objects.awaiting_response()) == []


def test_a_petition_that_gets_its_response_leaves_the_list():
    petition = make_petition()
    reached(petition)
    petition.response_fa = "پاسخ وزارت"
    petition.save()
    assert list(Petition.objects.awaiting_response()) == []


def test_a_petition_marked_responded_leaves_the_list():
    petition = make_petition()
    reached(petition)
    petition.outcome = Petition.Outcome.RESPONDED
    petition.save()
    assert list(Petition.objects.awaiting_response()) == []


def test_a_closed_petition_still_awaits_its_response():
    petition = make_petition()
    reached(petition)
    petition.close(by="mo", reason=Petition.ClosedReason.DONE)
    assert list(Petition.objects.awaiting_response()) == [petition]


def test_the_longest_wait_comes_first():
    recent, older = make_petition(), make_petition()
    reached(recent, days_ago=2)
    reached(older, days_ago=9)
    assert list(Petition.objects.awaiting_response()) == [older, recent]


def test_the_page_says_how_many_days_each_has_waited_and_which_is_overdue(client):
    late = make_petition(title_en="Late one")
    on_time = make_petition(title_en="On time one")
    reached(late, days_ago=40, deadline_days=30)
    reached(on_time, days_ago=3, deadline_days=30)
    html = client.get("/en/awaiting-response/").content.decode()
    assert "Waiting 40 days" in html and "Waiting 3 days" in html
    late_card = html[html.index("Late one") : html.index("On time one")]
    assert "Overdue" in late_card
    assert "Overdue" not in html[html.index("On time one") :]
    assert "Due by" in html[html.index("On time one") :]


def test_the_persian_page_counts_the_days_in_persian_digits(client):
    reached(make_petition(), days_ago=12, deadline_days=10)
    html = client.get("/fa/awaiting-response/").content.decode()
    assert "۱۲" in html
    assert "12 " not in html.split("<main", 1)[1]


def test_the_page_is_cached_like_the_petition_page(client):
    response = client.get("/en/awaiting-response/")
    assert "public" in response["Cache-Control"]


def test_the_home_page_links_to_the_list(client):
    html = client.get("/en/").content.decode()
    assert 'href="/en/awaiting-response/"' in html
