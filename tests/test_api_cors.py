"""Any site's page may read the API: Access-Control-Allow-Origin: * on every answer, errors too,
and a preflight answered without reaching a view."""

import pytest

from tests.factories import make_petition

pytestmark = pytest.mark.django_db


def test_every_answer_allows_any_origin(client):
    petition = make_petition()
    for url in [
        "/api/v1/petitions",
        f"/api/v1/petitions/{petition.slug}",
        "/api/v1/petitions/no-such-petition",
        "/api/v1/openapi.json",
    ]:
        response = client.get(url, HTTP_ORIGIN="https://news.example")
        assert response["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response


def test_a_preflight_is_answered(client):
    petition = make_petition()
    response = client.options(
        f"/api/v1/petitions/{petition.slug}",
        HTTP_ORIGIN="https://news.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response["Access-Control-Allow-Headers"]


def test_a_script_can_read_the_etag(client):
    response = client.get("/api/v1/petitions")
    assert "ETag" in response["Access-Control-Expose-Headers"]
