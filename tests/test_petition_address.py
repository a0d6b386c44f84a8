"""A petition's address: made from its title, readable, and working wherever it is linked."""

from urllib.parse import quote

import pytest

from petitions.models import Petition
from petitions.starting import new_slug
from tests.factories import make_petition

HOSTILE_TITLE = 'Save the "Green" park\'s <script>alert(1)</script> & co 🌳\u200cها'
PERSIAN_TITLE = "آزادی مطبوعات در کرمان\u200cها"

pytestmark = pytest.mark.django_db


def test_an_address_carries_no_word_of_the_titles_markup():
    slug = new_slug(Petition(title_en=HOSTILE_TITLE))
    assert slug.startswith("save-the-green-parks-alert1-co-")
    assert "script" not in slug


def test_a_persian_only_petition_gets_an_address_from_its_persian_title():
    slug = new_slug(Petition(title_en="", title_fa=PERSIAN_TITLE))
    assert slug.startswith("آزادی-مطبوعات-در-کرمان-ها-")


@pytest.fixture
def persian_only():
    return make_petition(
        slug=new_slug(Petition(title_en="", title_fa=PERSIAN_TITLE)),
        title_en="",
        addressed_to_en="",
        summary_en="",
        letter_en="",
        title_fa=PERSIAN_TITLE,
    )


def test_a_persian_address_opens_the_page_in_both_languages(client, persian_only):
    encoded = quote(persian_only.slug)
    assert persian_only.get_absolute_url().endswith(f"/p/{encoded}/")
    for language in ("fa", "en"):
        response = client.get(f"/{language}/p/{encoded}/")
        assert response.status_code == 200
        assert PERSIAN_TITLE in response.content.decode()
    for page in ("poster/", "embed/", "badge/", "count.json", "share.png"):
        assert client.get(f"/fa/p/{encoded}/{page}").status_code == 200, page


def test_a_persian_address_is_in_the_sitemap_hreflang_and_oembed(client, persian_only, settings):
    encoded = quote(persian_only.slug)
    assert f"/fa/p/{encoded}/" in client.get("/sitemap.xml").content.decode()
    page = client.get(f"/fa/p/{encoded}/").content.decode()
    assert f'hreflang="fa" href="{settings.SITE_URL}/fa/p/{encoded}/"' in page
    oembed = client.get("/oembed", {"url": f"{settings.SITE_URL}/fa/p/{encoded}/"})
    assert oembed.status_code == 200
    assert PERSIAN_TITLE in oembed.json()["title"]
