"""Nothing a member of the public started is visible to anyone else until a moderator publishes
it: not its pages, count.json, the widget, oEmbed, the home page, the sitemap, or the
similar-petition search. And a petition in one language is public in that language only."""

import pytest

from petitions.models import Petition
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db

UNPUBLISHED = (Petition.Status.DRAFT, Petition.Status.PENDING, Petition.Status.REJECTED)


def started(status) -> Petition:
    return make_petition(
        status=status,
        starter_email="sara@example.com",
        starter_email_canonical="sara@example.com",
        title_en="A secret petition",
        title_fa="کارزاری پنهان",
    )


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_an_unpublished_petition_has_no_public_page(client, status):
    petition = started(status)
    for language in ("en", "fa"):
        base = f"/{language}/p/{petition.slug}/"
        for url in (base, base + "thanks/", base + "embed/", base + "embed/thanks/"):
            assert client.get(url).status_code == 404, url
        assert client.get(base + "count.json").status_code == 404
        assert client.post(base + "sign/", sign_form_data(petition)).status_code == 404
    assert not petition.signatures.exists()


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_an_unpublished_petition_is_in_no_list_sitemap_search_or_oembed(client, status):
    petition = started(status)
    for language in ("en", "fa"):
        assert "A secret petition" not in client.get(f"/{language}/").content.decode()
        assert "کارزاری پنهان" not in client.get(f"/{language}/").content.decode()
    assert petition.slug not in client.get("/sitemap.xml").content.decode()
    assert Petition.objects.similar_to("A secret petition") == []
    oembed = client.get("/oembed", {"url": f"http://testserver/en/p/{petition.slug}/"})
    assert oembed.status_code == 404


def test_the_sitemap_lists_each_public_petition_in_its_own_languages(client):
    both = make_petition()
    persian = make_petition(title_en="", summary_en="", letter_en="", original_language="fa")
    closed = make_petition(status=Petition.Status.CLOSED)
    xml = client.get("/sitemap.xml").content.decode()
    for petition in (both, closed):
        assert f"http://testserver/en/p/{petition.slug}/" in xml
        assert f"http://testserver/fa/p/{petition.slug}/" in xml
    assert f"http://testserver/fa/p/{persian.slug}/" in xml
    assert f"http://testserver/en/p/{persian.slug}/" not in xml


def test_a_persian_only_petition_is_listed_on_the_english_home_page_as_persian_only(client):
    petition = make_petition(title_en="", summary_en="", letter_en="", original_language="fa")
    html = client.get("/en/").content.decode()
    assert f'href="/fa/p/{petition.slug}/" hreflang="fa"' in html
    assert "In Persian only" in html
    assert "فقط به فارسی" not in client.get("/fa/").content.decode()


def test_the_widget_and_oembed_of_a_persian_only_petition_are_in_persian(client):
    petition = make_petition(title_en="", summary_en="", letter_en="", original_language="fa")
    widget = client.get(f"/en/p/{petition.slug}/embed/")
    assert widget.status_code == 302 and widget.url == f"/fa/p/{petition.slug}/embed/"
    oembed = client.get("/oembed", {"url": f"http://testserver/en/p/{petition.slug}/"}).json()
    assert f"/fa/p/{petition.slug}/embed/" in oembed["html"]
    assert oembed["title"] == petition.title_fa


def test_the_other_language_page_is_cached_like_the_petition_page(client):
    petition = make_petition(title_en="", summary_en="", letter_en="", original_language="fa")
    response = client.get(f"/en/p/{petition.slug}/")
    assert response["Cache-Control"].startswith("public")
    assert not response.cookies
    assert f'<link rel="canonical" href="http://testserver/fa/p/{petition.slug}/">' in (
        response.content.decode()
    )
