"""The printable poster: the petition's title and a QR code to its page, in both
languages, cacheable like the petition page."""

import pytest
import segno
from django.utils import translation

from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def poster(client, petition, language):
    with translation.override(language):
        url = f"/{language}/p/{petition.slug}/poster/"
        page = petition.get_absolute_url()
    return client.get(url), f"http://testserver{page}"


@pytest.mark.parametrize("language", ["en", "fa"])
def test_poster_has_the_title_and_a_qr_code_to_the_page_in_its_language(client, language):
    petition = make_petition()
    make_signature(petition)
    response, page_url = poster(client, petition, language)
    assert response.status_code == 200
    html = response.content.decode()
    assert getattr(petition, f"title_{language}") in html
    assert html.count("<h1") == 1
    # The code on the page is the one for this page's address, and nothing else.
    expected = segno.make(page_url, error="m").svg_inline(
        scale=8, border=4, dark="#000", light="#fff", omitsize=True
    )
    assert expected in html
    assert f'href="{page_url}"' in html
    assert "public" in response["Cache-Control"] and "Set-Cookie" not in response


def test_persian_poster_counts_in_persian_digits(client):
    petition = make_petition()
    for _ in range(3):
        make_signature(petition)
    response, _url = poster(client, petition, "fa")
    assert "۳ نفر امضا کرده‌اند." in response.content.decode()


def test_petition_page_links_to_its_poster(client):
    petition = make_petition()
    with translation.override("en"):
        html = client.get(petition.get_absolute_url()).content.decode()
    assert f'href="/en/p/{petition.slug}/poster/"' in html


def test_poster_of_a_draft_is_not_found(client):
    petition = make_petition(status="draft")
    response, _url = poster(client, petition, "en")
    assert response.status_code == 404
