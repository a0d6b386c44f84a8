"""oEmbed: a blog engine that understands it embeds the petition's widget when the
petition's address is pasted, found through a discovery link on every petition page."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from petitions.models import Petition
from petitions.snippets import WIDGET_HEIGHT, WIDGET_WIDTH
from tests.factories import make_petition
from tests.html import elements

pytestmark = pytest.mark.django_db


def oembed(**params):
    return Client().get("/oembed", params)


def test_a_petition_page_address_gets_a_rich_answer_with_the_widgets_iframe():
    make_petition(slug="free-press", title_en="Free the press")
    response = oembed(url="http://testserver/en/p/free-press/", format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["version"] == "1.0" and answer["type"] == "rich"
    assert answer["title"] == "Free the press"
    assert answer["provider_name"] == "Petitions"
    assert answer["provider_url"] == "http://testserver/en/"
    assert (answer["width"], answer["height"]) == (WIDGET_WIDTH, WIDGET_HEIGHT)
    iframe = elements(answer["html"], "iframe")[0]
    assert iframe["src"] == "http://testserver/en/p/free-press/embed/"
    assert (iframe["width"], iframe["height"]) == (str(WIDGET_WIDTH), str(WIDGET_HEIGHT))
    assert iframe["title"] == "Free the press"
    # A reader that shows no iframe gets a plain link to the petition.
    assert elements(answer["html"], "a", href="http://testserver/en/p/free-press/")


def test_a_persian_page_gets_the_persian_widget():
    make_petition(slug="free-press", title_fa="آزادی مطبوعات")
    answer = oembed(url="http://testserver/fa/p/free-press/").json()
    assert (
        elements(answer["html"], "iframe")[0]["src"] == "http://testserver/fa/p/free-press/embed/"
    )
    assert answer["title"] == "آزادی مطبوعات"
    assert answer["provider_name"] == "کارزارها"


def test_the_widget_is_made_to_fit_the_consumers_maximum_size():
    make_petition(slug="free-press")
    answer = oembed(
        url="http://testserver/en/p/free-press/", maxwidth="300", maxheight="400"
    ).json()
    assert (answer["width"], answer["height"]) == (300, 400)
    assert 'width="300" height="400"' in answer["html"]
    roomy = oembed(url="http://testserver/en/p/free-press/", maxwidth="2000", maxheight="x").json()
    assert (roomy["width"], roomy["height"]) == (WIDGET_WIDTH, WIDGET_HEIGHT)


def test_a_shared_links_trackers_do_not_stop_the_page_being_recognised():
    make_petition(slug="free-press")
    response = oembed(url="http://testserver/en/p/free-press/?utm_source=x#sign")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://testserver/en/p/nothing-here/",
        "http://testserver/en/p/draft/",
        "http://elsewhere.example/en/p/free-press/",
        "http://testserver/en/",
        "http://testserver/en/p/free-press/thanks/",
        "http://testserver/p/free-press/",
        "javascript:alert(1)",
    ],
)
def test_an_address_that_is_not_a_public_petition_page_is_not_found(url):
    make_petition(slug="free-press")
    make_petition(slug="draft", status=Petition.Status.DRAFT)
    assert oembed(url=url).status_code == 404


def test_xml_is_not_implemented():
    make_petition(slug="free-press")
    assert oembed(url="http://testserver/en/p/free-press/", format="xml").status_code == 501


def test_the_answer_may_be_cached_by_anyone():
    make_petition(slug="free-press")
    response = oembed(url="http://testserver/en/p/free-press/", format="json")
    assert "public" in response["Cache-Control"]
    assert not response.cookies


@pytest.mark.parametrize("language", ["en", "fa"])
def test_every_petition_page_links_to_its_oembed_answer(language):
    make_petition(slug="free-press")
    html = Client().get(f"/{language}/p/free-press/").content.decode()
    links = elements(html, "link", rel="alternate", type="application/json+oembed")
    assert len(links) == 1
    href = urlsplit(links[0]["href"])
    assert href.path == "/oembed"
    assert parse_qs(href.query) == {
        "url": [f"http://testserver/{language}/p/free-press/"],
        "format": ["json"],
    }
    assert Client().get(links[0]["href"]).status_code == 200
