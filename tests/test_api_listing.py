"""GET /api/v1/petitions: public petitions only, filtered by state, outcome, language and title,
a page at a time in a stable order with a link to the next page."""

import datetime

import pytest
from django.utils import timezone

from petitions.models import Petition
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db

URL = "/api/v1/petitions"


def slugs(client, **params) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [p["slug"] for p in response.json()["results"]]


def test_lists_public_petitions_with_their_counts(client):
    open_one = make_petition()
    make_signature(open_one)
    make_signature(open_one)
    closed = make_petition(status=Petition.Status.CLOSED)
    make_petition(status=Petition.Status.PENDING)
    make_petition(status=Petition.Status.DRAFT)
    make_petition(status=Petition.Status.REJECTED)
    body = client.get(URL).json()
    assert body["total"] == 2
    found = {p["slug"]: p for p in body["results"]}
    assert set(found) == {open_one.slug, closed.slug}
    assert found[open_one.slug]["count"] == 2
    assert found[open_one.slug]["state"] == "open"
    assert found[closed.slug]["state"] == "closed"
    assert found[open_one.slug]["pages"]["fa"].endswith(f"/fa/p/{open_one.slug}/")


def test_state_open_leaves_out_a_petition_past_its_closing_date(client):
    still = make_petition()
    past = make_petition()
    Petition.objects.filter(pk=past.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert slugs(client, state="open") == [still.slug]
    assert slugs(client, state="closed") == [past.slug]


def test_filters_by_outcome(client):
    won = make_petition(status=Petition.Status.CLOSED, outcome=Petition.Outcome.WON)
    none = make_petition()
    assert slugs(client, outcome="won") == [won.slug]
    assert slugs(client, outcome="none") == [none.slug]


def test_filters_by_language_published_in(client):
    both = make_petition()
    persian_only = make_petition(title_en="", summary_en="", letter_en="", original_language="fa")
    single = make_petition(single_language=True, original_language="en")
    assert set(slugs(client, language="en")) == {both.slug, single.slug}
    assert set(slugs(client, language="fa")) == {both.slug, persian_only.slug}


def test_searches_both_titles_whatever_form_of_yeh_and_kaf_is_typed(client):
    lake = make_petition(title_en="Save the lake", title_fa="نجات دریاچه ارومیه")
    make_petition(title_en="Free the press", title_fa="آزادی مطبوعات")
    assert slugs(client, q="LAKE") == [lake.slug]
    # Arabic Yeh typed for the Persian one.
    assert slugs(client, q="اروميه") == [lake.slug]


def test_pages_in_a_stable_order_with_links_between_them(client):
    now = timezone.now()
    made = [make_petition(opened_at=now - datetime.timedelta(days=n)) for n in range(5)]
    first = client.get(URL, {"limit": 2, "state": "open"}).json()
    assert [p["slug"] for p in first["results"]] == [made[0].slug, made[1].slug]
    assert first["previous"] is None
    assert "state=open" in first["next"] and "offset=2" in first["next"]
    second = client.get(first["next"].split("testserver", 1)[-1]).json()
    assert [p["slug"] for p in second["results"]] == [made[2].slug, made[3].slug]
    last = client.get(second["next"].split("testserver", 1)[-1]).json()
    assert [p["slug"] for p in last["results"]] == [made[4].slug]
    assert last["next"] is None
    assert last["total"] == 5


def test_refuses_a_page_too_large_with_a_json_422(client):
    response = client.get(URL, {"limit": 1000})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/json")
