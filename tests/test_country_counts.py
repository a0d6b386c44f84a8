"""Counts by country without exposing anyone: a country with fewer signers than
COUNTRY_COUNT_MINIMUM is folded into "other", on the page and in countries.json."""

import json
import re

import pytest
from django.utils import timezone

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


def test_while_one_process_counts_the_others_answer_with_the_last_release(
    petition, django_assert_num_queries
):
    from django.core.cache import caches

    from signatures import counting

    key = f"petition-countries:v2:{petition.pk}:10"
    first = counting.country_counts(petition)
    assert first.countries == [("IR", 12), ("GB", 10)]
    caches["default"].delete(key)
    with django_assert_num_queries(1):  # the release, still fresh
        assert counting.country_counts(petition) == first

    a_day_later(petition)
    sign_from(petition, "GB", 10)
    caches["default"].delete(key)
    caches["default"].set(f"{key}:counting", 1, 30)
    assert counting.country_counts(petition) == first
    caches["default"].delete_many([key, f"{key}:counting"])
    assert counting.country_counts(petition).countries == [("GB", 20), ("IR", 12)]


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


def observe(client, petition) -> dict:
    """What an outsider polling the public answers sees, each answer made afresh (as a minute
    later, when every cached copy has expired)."""
    from django.core.cache import caches

    from tests.html import elements

    caches["default"].clear()
    page = client.get(f"/en/p/{petition.slug}/").content.decode()
    times = [time["datetime"] for time in elements(page, "time", class_="recent__when")]
    return {
        "countries": json.loads(client.get(f"/en/p/{petition.slug}/countries.json").content),
        "page": re.findall(r'<section class="countries".*?</section>', page, re.S),
        "names": re.findall(r'<bdi class="recent__name">(.*?)</bdi>', page),
        "times": times,
        "history": client.get(f"/en/p/{petition.slug}/history.json").status_code,
        "share": client.get(f"/en/p/{petition.slug}/share.png").status_code,
    }


def test_polling_between_single_signatures_reveals_no_listed_signers_country(client):
    """The differencing attack: a listed signer in Iran signs, then a small country reaches the
    minimum, with the public answers read before and after each signature."""
    petition = make_petition(signer_list="names")
    sign_from(petition, "DE", 12)
    sign_from(petition, "IR", 10)
    sign_from(petition, "LU", 9)
    before = observe(client, petition)
    assert before["countries"]["other"] == 9

    make_signature(petition, name="Reza Tehrani", country="IR", show_name=True)
    after_reza = observe(client, petition)
    assert after_reza["countries"] == before["countries"]
    assert after_reza["page"] == before["page"]
    # A signer in Iran is counted, never listed: no answer can tie a listed name to Iran.
    assert after_reza["names"] == before["names"]

    make_signature(petition, name="Lena Weber", country="LU", show_name=True)
    after_lena = observe(client, petition)
    assert after_lena["countries"] == before["countries"]
    assert after_lena["page"] == before["page"]
    # The list says the hour of signing, not the second.
    assert after_lena["times"]
    assert all(time.endswith(":00:00+00:00") for time in after_lena["times"]), after_lena


def a_day_later(petition) -> None:
    from datetime import timedelta

    from signatures.models import CountryRelease

    CountryRelease.objects.filter(petition=petition).update(
        released_at=timezone.now() - timedelta(hours=25)
    )


def test_the_breakdown_changes_only_after_a_day_and_the_minimum_of_new_signatures(client):
    petition = make_petition()
    sign_from(petition, "DE", 12)
    first = observe(client, petition)["countries"]
    sign_from(petition, "GB", 10)
    assert observe(client, petition)["countries"] == first  # not a day yet
    a_day_later(petition)
    released = observe(client, petition)["countries"]
    assert released["countries"] == [{"country": "DE", "count": 12}]
    assert released["other"] == 10  # folded once, so it stays folded until well above
    sign_from(petition, "FR", 9)
    a_day_later(petition)
    assert observe(client, petition)["countries"] == released  # only 9 new signatures


def test_a_folded_country_is_named_once_well_above_the_minimum(client):
    petition = make_petition()
    sign_from(petition, "DE", 12)
    sign_from(petition, "LU", 9)
    observe(client, petition)
    sign_from(petition, "LU", 11)
    a_day_later(petition)
    assert observe(client, petition)["countries"]["countries"] == [
        {"country": "LU", "count": 20},
        {"country": "DE", "count": 12},
    ]
