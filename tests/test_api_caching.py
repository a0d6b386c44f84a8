"""Every API answer is the same for everyone: no cookie read or set, no Vary on the visitor, a
public Cache-Control, and a strong ETag that a client sends back for a 304."""

import pytest

from lib import cache
from tests.factories import make_petition, make_signature, make_staff

pytestmark = pytest.mark.django_db


def addresses(petition) -> list[str]:
    base = f"/api/v1/petitions/{petition.slug}"
    return [
        "/api/v1/petitions",
        base,
        f"{base}/count",
        f"{base}/history",
        f"{base}/countries",
        "/api/v1/openapi.json",
    ]


@pytest.fixture
def petition():
    petition = make_petition()
    make_signature(petition)
    return petition


def test_answers_are_public_with_a_strong_etag(client, petition):
    for url in addresses(petition):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"].startswith("public"), url
        assert "max-age=" in response["Cache-Control"], url
        assert response["ETag"].startswith('"'), url  # strong: no W/
        assert "Cookie" not in response.get("Vary", ""), url
        assert "Accept-Language" not in response.get("Vary", ""), url
        assert not response.cookies, url


def test_a_matching_etag_gets_304_and_another_gets_the_answer(client, petition):
    for url in addresses(petition):
        first = client.get(url)
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304, url
        assert again.content == b""
        assert again["ETag"] == first["ETag"]
        assert again["Access-Control-Allow-Origin"] == "*"
        assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_etag_changes_when_the_count_does(client, petition):
    url = f"/api/v1/petitions/{petition.slug}"
    before = client.get(url)["ETag"]
    make_signature(petition)
    cache.delete_many([cache.count_key(petition.slug)])  # what a second's wait would do
    assert client.get(url)["ETag"] != before


def test_a_signed_in_visitor_with_a_language_gets_the_same_bytes(client, petition):
    url = f"/api/v1/petitions/{petition.slug}"
    anonymous = client.get(url)
    client.force_login(make_staff())
    client.cookies["django_language"] = "fa"
    signed_in = client.get(url, HTTP_ACCEPT_LANGUAGE="fa")
    assert signed_in.content == anonymous.content
    assert signed_in["ETag"] == anonymous["ETag"]
    assert not signed_in.cookies


def test_the_api_reads_no_session_or_user(client, petition):
    request = client.get(f"/api/v1/petitions/{petition.slug}/count").wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")


def test_the_counts_max_age_is_count_jsons(client, petition):
    api = client.get(f"/api/v1/petitions/{petition.slug}/count")["Cache-Control"]
    page = client.get(f"/en/p/{petition.slug}/count.json")["Cache-Control"]
    assert api.replace(" ", "") == page.replace(" ", "")


def test_head_answers_like_get(client, petition):
    response = client.head(f"/api/v1/petitions/{petition.slug}")
    assert response.status_code == 200
    assert response["ETag"] == client.get(f"/api/v1/petitions/{petition.slug}")["ETag"]
