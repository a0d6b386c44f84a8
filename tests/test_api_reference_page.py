"""The API's reference page, /en/api/ and /fa/api/: built from the schema on our server, naming
every operation and field, loading nothing from another host; linked from the home page."""

import re

import pytest

from integrations.api.endpoints import api
from tests.factories import make_petition

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "fa"])
def test_lists_every_operation_and_field(client, language):
    response = client.get(f"/{language}/api/")
    assert response.status_code == 200
    html = response.content.decode()
    schema = api.get_openapi_schema()
    for path in schema["paths"]:
        assert f"<code>{path}</code>" in html
    for name, model in schema["components"]["schemas"].items():
        for field in model.get("properties", {}):
            assert f"<code>{field}</code>" in html, f"{name}.{field}"
    assert "/api/v1/openapi.json" in html
    assert "/api/v1/bulk/petitions.csv.gz" in html


@pytest.mark.parametrize("language", ["en", "fa"])
def test_loads_nothing_from_another_host(client, language):
    html = client.get(f"/{language}/api/").content.decode()
    for attribute in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert attribute.startswith(("/", "#", "http://testserver")), attribute
    assert "swagger" not in html.lower()


def test_the_persian_page_is_in_persian(client):
    html = client.get("/fa/api/").content.decode()
    assert 'lang="fa"' in html
    assert "داده" in html  # the page's own words, translated


def test_the_api_docs_address_leads_to_the_page(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 302
    assert response["Location"] == "/en/api/"


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_home_page_footer_links_the_api_and_the_bulk_files(client, language):
    make_petition()
    html = client.get(f"/{language}/").content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    assert f'href="/{language}/api/"' in footer
    assert 'href="/api/v1/bulk/petitions.csv.gz"' in footer
    assert 'href="/api/v1/bulk/petitions.json.gz"' in footer
