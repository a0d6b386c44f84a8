"""The sign form carries no CSRF cookie (the page is the same for everyone, and an embedded widget
signs where no cookie is sent): the browser's own word on where a POST came from is the guard."""

import pytest

from signatures.models import Signature
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db


def post(client, petition, **headers):
    return client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition), headers=headers)


def test_a_signature_from_a_foreign_origin_is_refused(client):
    petition = make_petition()
    response = post(client, petition, Origin="https://evil.example")
    assert response.status_code == 403
    assert "supporter" not in response.cookies
    assert not Signature.objects.exists()


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site"])
def test_a_signature_the_browser_says_came_from_another_site_is_refused(client, fetch_site):
    petition = make_petition()
    response = post(client, petition, Sec_Fetch_Site=fetch_site, Origin="http://testserver")
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_a_sandboxed_page_with_a_null_origin_is_refused(client):
    petition = make_petition()
    assert post(client, petition, Origin="null").status_code == 403


def test_a_signature_from_our_own_page_goes_through(client):
    petition = make_petition()
    response = post(client, petition, Origin="http://testserver", Sec_Fetch_Site="same-origin")
    assert response.status_code == 302
    assert Signature.objects.count() == 1


def test_a_trusted_origin_may_sign(client, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://petitions.example.org"]
    petition = make_petition()
    assert post(client, petition, Origin="https://petitions.example.org").status_code == 302


def test_a_form_token_of_another_petition_is_refused_and_replaced(client):
    petition, other = make_petition(), make_petition()
    data = sign_form_data(other)
    response = client.post(f"/en/p/{petition.slug}/sign/", data)
    assert response.status_code == 400
    assert f'value="{data["started"]}"' not in response.content.decode()
    assert not Signature.objects.exists()
