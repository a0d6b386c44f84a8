"""Signers by country in the API are the page's: the same function (counting.country_counts),
so the same folding of small countries into `other`."""

import pytest

from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition():
    petition = make_petition()
    for country, signers in [("IR", 12), ("GB", 10), ("DE", 9), ("FR", 1)]:
        for _ in range(signers):
            make_signature(petition, country=country)
    return petition


def test_the_api_folds_exactly_as_the_page(client, petition):
    api = client.get(f"/api/v1/petitions/{petition.slug}/countries").json()
    page = client.get(f"/en/p/{petition.slug}/").context["country_counts"]
    assert api["countries"] == [
        {"country": row["code"], "count": row["count"]} for row in page["countries"]
    ]
    assert api["other"] == page["other"]
    assert api["minimum"] == page["minimum"]
    assert api == client.get(f"/en/p/{petition.slug}/countries.json").json()


def test_a_country_under_the_minimum_is_not_named(client, petition, settings):
    body = client.get(f"/api/v1/petitions/{petition.slug}/countries").json()
    named = {row["country"] for row in body["countries"]}
    assert named == {"IR", "GB"}
    assert body["other"] == 10
    assert body["minimum"] == settings.COUNTRY_COUNT_MINIMUM


def test_without_the_cache_the_breakdown_is_a_503_not_an_error(client, petition, monkeypatch):
    from signatures import counting

    monkeypatch.setattr(counting, "country_counts", lambda petition: None)
    response = client.get(f"/api/v1/petitions/{petition.slug}/countries")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["detail"]
