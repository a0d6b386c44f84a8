"""Counts by country without exposing anyone (issue 20): a country with fewer signers than
COUNTRY_COUNT_MINIMUM is folded into "other", on the page and in countries.json."""

import json

import pytest

from signatures.models import Signature
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def sign_from(petition, country: str, how_many: int, **fields):
    for _n in range(how_many):
        make_signature(petition, country=country, **fields)


@pytest.fixture
def petition():
    petition = make_petition()
    sign_from(petition, "IR", 12)
    sign_from(petition, "GB", 10)
    sign_from(petition, "DE", 9)
    sign_from(petition, "FR", 1)
    # Not counted, so not in any breakdown.
    sign_from(petition, "SE", 20, status=Signature.Status.INVALIDATED)
    return petition


def test_a_country_with_nine_signers_is_folded_into_other(petition):
    counts = Signature.objects.filter(petition=petition).counts_by_country(10)
    assert counts.countries == [("IR", 12), ("GB", 10)]
    assert counts.other == 10
    assert counts.minimum == 10


def test_the_minimum_is_a_setting(client, petition, settings):
    settings.COUNTRY_COUNT_MINIMUM = 5
    data = json.loads(client.get(f"/en/p/{petition.slug}/countries.json").content)
    assert data == {
        "countries": [
            {"country": "IR", "count": 12},
            {"country": "GB", "count": 10},
            {"country": "DE", "count": 9},
        ],
        "other": 1,
        "minimum": 5,
    }


def test_countries_json_folds_small_countries_and_is_cacheable(client, petition):
    response = client.get(f"/fa/p/{petition.slug}/countries.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"]
    assert "Set-Cookie" not in response
    assert json.loads(response.content) == {
        "countries": [{"country": "IR", "count": 12}, {"country": "GB", "count": 10}],
        "other": 10,
        "minimum": 10,
    }


def test_the_page_names_big_countries_only_in_its_language(client, petition):
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "Signers by country" in html
    assert "<li>Iran: 12</li>" in html
    assert "<li>United Kingdom: 10</li>" in html
    assert "<li>Other countries: 10</li>" in html
    assert "Germany" not in html.split("Signers by country")[1]
    assert "France" not in html.split("Signers by country")[1]

    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert "<li>ایران: ۱۲</li>" in html
    assert "<li>کشورهای دیگر: ۱۰</li>" in html


def test_no_breakdown_until_a_country_reaches_the_minimum(client):
    petition = make_petition()
    sign_from(petition, "IR", 9)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "Signers by country" not in html
    data = json.loads(client.get(f"/en/p/{petition.slug}/countries.json").content)
    assert data["countries"] == [] and data["other"] == 9


def test_a_draft_has_no_public_breakdown(client):
    draft = make_petition(status="draft")
    assert client.get(f"/en/p/{draft.slug}/countries.json").status_code == 404


def test_while_one_process_counts_the_others_answer_with_the_last_breakdown(
    petition, django_assert_num_queries
):
    from django.core.cache import caches

    from signatures import counting
    from signatures.models import CountryCounts

    key = f"petition-countries:v1:{petition.pk}:10"
    last = CountryCounts([("IR", 11)], 3, 10)
    caches["default"].set(f"{key}:counting", 1, 30)
    caches["default"].set(f"{key}:last", last, 300)
    with django_assert_num_queries(0):
        assert counting.country_counts(petition) == last

    caches["default"].delete(f"{key}:counting")
    fresh = counting.country_counts(petition)
    assert fresh.countries == [("IR", 12), ("GB", 10)]
    assert caches["default"].get(f"{key}:last") == fresh


def test_without_the_cache_the_page_goes_without_the_breakdown(client, petition, settings):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once it is closed
    down = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
    settings.CACHES = {"default": down, "shared": down}
    page = client.get(f"/en/p/{petition.slug}/")
    assert page.status_code == 200
    assert "Signers by country" not in page.content.decode()
    response = client.get(f"/en/p/{petition.slug}/countries.json")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
