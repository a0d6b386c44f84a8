"""Reads are limited per client address (lib.ratelimit, API_RATE_PER_IP): past it, 429 in JSON
with Retry-After, as the schema says; another address is not held back."""

import pytest

from tests.factories import make_petition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tight_limit(settings):
    settings.API_RATE_PER_IP = "3/m"


def test_the_request_past_the_limit_is_refused_with_retry_after(client):
    petition = make_petition()
    url = f"/api/v1/petitions/{petition.slug}"
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="192.0.2.1").status_code == 200
    refused = client.get(url, REMOTE_ADDR="192.0.2.1")
    assert refused.status_code == 429
    assert refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Cache-Control"] == "no-store"
    assert refused["Access-Control-Allow-Origin"] == "*"
    assert client.get(url, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_every_address_of_the_api_counts(client):
    for url in ["/api/v1/petitions", "/api/v1/openapi.json", "/api/v1/petitions/x"]:
        client.get(url, REMOTE_ADDR="192.0.2.3")
    assert client.get("/api/v1/petitions", REMOTE_ADDR="192.0.2.3").status_code == 429


def test_the_schema_documents_429_on_every_operation(client):
    schema = client.get("/api/v1/openapi.json", REMOTE_ADDR="192.0.2.4").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert "429" in operation["responses"], f"{method} {path}"
