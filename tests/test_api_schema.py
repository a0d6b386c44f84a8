"""/api/v1/openapi.json is OpenAPI 3.1, generated from the code, and names every address of the
API with a description of every field and parameter."""

import pytest
from django.urls import URLPattern

from integrations.api.endpoints import api

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_openapi_3_1(schema):
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["version"] == "1"


def test_every_route_of_the_api_is_in_the_schema(schema):
    routes = {
        "/api/v1/" + str(p.pattern).replace("<slug>", "{slug}")
        for p in api.urls[0]
        if isinstance(p, URLPattern) and p.name not in ("openapi-json", "api-root")
    }
    assert routes
    assert routes == set(schema["paths"])


def test_every_field_and_parameter_is_described(schema):
    undescribed = [
        f"{name}.{field}"
        for name, model in schema["components"]["schemas"].items()
        for field, spec in model.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []
    for path, methods in schema["paths"].items():
        for operation in methods.values():
            assert operation.get("description"), path
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), f"{path} {parameter['name']}"


def test_the_bulk_files_are_described_as_gzip(schema):
    for name in ("csv", "json"):
        answer = schema["paths"][f"/api/v1/bulk/petitions.{name}.gz"]["get"]["responses"]["200"]
        assert list(answer["content"]) == ["application/gzip"]
