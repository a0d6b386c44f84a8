"""The public list of petitions by state (open, awaiting a response, responded to, won, closed),
searchable by title in either language, paginated, in both languages."""

import datetime

import pytest
from django.utils import timezone

from petitions import list_views
from petitions.models import Petition, ThresholdReached
from tests.factories import make_petition

pytestmark = pytest.mark.django_db


def titles(client, query: str, language="en") -> str:
    return client.get(f"/{language}/petitions/{query}").content.decode()


@pytest.fixture
def one_of_each():
    petitions = {
        "open": make_petition(title_en="Open one", title_fa="یکی باز"),
        "closed": make_petition(title_en="Closed one", status=Petition.Status.CLOSED),
        "responded": make_petition(title_en="Responded one", response_en="We will."),
        "won": make_petition(title_en="Won one", outcome=Petition.Outcome.WON),
        "awaiting": make_petition(title_en="Awaiting one"),
        "draft": make_petition(title_en="Draft one", status=Petition.Status.DRAFT),
    }
    ThresholdReached.objects.create(
        petition=petitions["awaiting"], number=10, count=10, owes_response=True
    )
    return petitions


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        ("open", {"Open one", "Responded one", "Won one", "Awaiting one"}),
        ("closed", {"Closed one"}),
        ("responded", {"Responded one"}),
        ("won", {"Won one"}),
        ("awaiting", {"Awaiting one"}),
    ],
)
def test_each_tab_lists_the_petitions_in_its_state(client, one_of_each, state, shown):
    html = titles(client, f"?state={state}")
    listed = {p.title_en for p in one_of_each.values() if f">{p.title_en}</a>" in html}
    assert listed == shown


def test_a_petition_past_its_closing_date_is_listed_closed_not_open(client):
    petition = make_petition(title_en="Past its date")
    Petition.objects.filter(pk=petition.pk).update(
        closes_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert ">Past its date</a>" in titles(client, "?state=closed")
    assert ">Past its date</a>" not in titles(client, "?state=open")


def test_an_unknown_state_shows_the_open_ones(client, one_of_each):
    assert ">Open one</a>" in titles(client, "?state=nonsense")


def test_the_search_finds_an_english_title(client, one_of_each):
    html = titles(client, "?state=open&q=awaiting")
    assert ">Awaiting one</a>" in html and ">Open one</a>" not in html


def test_the_search_finds_a_persian_title_typed_with_arabic_letters(client):
    make_petition(title_en="Libraries", title_fa="کتابخانه‌های کوچک")
    make_petition(title_en="Rivers", title_fa="رودخانه‌ها")
    html = titles(client, "?q=كتابخانه", "fa")  # Arabic Kaf, as a phone may type it
    assert "کتابخانه‌های کوچک" in html
    assert "رودخانه‌ها</a>" not in html


def test_the_search_says_when_nothing_matches_with_the_query_isolated(client, one_of_each):
    html = titles(client, "?q=%3Cscript%3E")
    assert "<bdi>&lt;script&gt;</bdi>" in html
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0]


def test_the_list_is_paginated_keeping_the_state_and_the_search(client, monkeypatch):
    monkeypatch.setattr(list_views, "PER_PAGE", 2)
    for n in range(5):
        make_petition(title_en=f"Paged {n}")
    first = titles(client, "?state=open&q=paged")
    assert first.count(">Paged ") == 2
    assert "?state=open&amp;q=paged&amp;page=2" in first
    last = titles(client, "?state=open&q=paged&page=3")
    assert last.count(">Paged ") == 1


def test_the_persian_list_has_persian_tabs_and_page_numbers(client, monkeypatch):
    monkeypatch.setattr(list_views, "PER_PAGE", 1)
    make_petition()
    make_petition()
    html = titles(client, "", "fa")
    assert "در انتظار پاسخ" in html and "پیروز شد" in html
    assert "صفحهٔ ۱ از ۲" in html


def test_the_list_is_cached_like_the_petition_page(client):
    assert "public" in client.get("/en/petitions/")["Cache-Control"]


def test_the_home_page_links_to_the_list(client):
    assert 'href="/en/petitions/"' in client.get("/en/").content.decode()
