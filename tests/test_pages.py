import pytest
from django.urls import reverse
from django.utils import translation

from petitions.models import Petition
from tests.factories import make_petition, make_signature
from tests.html import elements, html_root

pytestmark = pytest.mark.django_db

LANGUAGES = [("en", "ltr"), ("fa", "rtl")]


def page_urls(petition):
    urls = []
    for code, _ in LANGUAGES:
        with translation.override(code):
            urls.append((code, reverse("petitions:home")))
            urls.append((code, petition.get_absolute_url()))
            urls.append((code, petition.get_embed_url()))
            urls.append((code, reverse("api_reference")))
            urls.append((code, reverse("signatures:receipt", kwargs={"slug": petition.slug})))
            urls.append((code, reverse("signatures:record", kwargs={"slug": petition.slug})))
    return urls


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_every_public_page_has_its_language_direction_and_one_h1(client, language, direction):
    petition = make_petition()
    for code, url in page_urls(petition):
        if code != language:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        root = html_root(html)
        assert (root["lang"], root["dir"]) == (language, direction), url
        assert len(elements(html, "h1")) == 1, url


def test_root_redirects_by_accept_language(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fa-IR,fa;q=0.9,en;q=0.5").url == "/fa/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").url == "/en/"
    # A language we do not speak gets the default.
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE").url == "/en/"


def test_home_lists_open_petitions_with_their_counts(client):
    open_petition = make_petition(title_en="Open one")
    for _ in range(3):
        make_signature(open_petition)
    make_petition(title_en="Closed one", status=Petition.Status.CLOSED)
    make_petition(title_en="Draft one", status=Petition.Status.DRAFT)

    html = client.get("/en/").content.decode()

    assert "Open one" in html
    assert "Closed one" not in html
    assert "Draft one" not in html
    assert "3</strong> signatures" in html


def test_home_shows_counts_in_persian_digits(client):
    petition = make_petition()
    for _ in range(12):
        make_signature(petition)
    html = client.get("/fa/").content.decode()
    assert "۱۲</strong>" in html


def test_home_counts_do_not_query_per_petition(client, django_assert_max_num_queries):
    for _ in range(5):
        make_signature(make_petition())
    with django_assert_max_num_queries(4):
        client.get("/en/")


def test_draft_petition_is_not_found_by_the_public(client):
    petition = make_petition(status=Petition.Status.DRAFT, title_fa="", letter_fa="")
    assert client.get(f"/en/p/{petition.slug}/").status_code == 404
    assert client.get(f"/fa/p/{petition.slug}/").status_code == 404


def test_draft_petition_is_previewed_by_staff(admin_client):
    petition = make_petition(status=Petition.Status.DRAFT)
    response = admin_client.get(f"/en/p/{petition.slug}/")
    assert response.status_code == 200
    assert "Draft preview" in response.content.decode()


def test_closed_petition_is_public_but_says_it_is_closed(client):
    petition = make_petition(status=Petition.Status.CLOSED)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "This petition is closed" in html


def test_petition_page_shows_starter_decision_maker_summary_and_count(client):
    petition = make_petition(
        starter_name="Emily Schrader", addressed_to_en="Elon Musk", summary_en="Why it matters."
    )
    make_signature(petition)
    make_signature(petition)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "<bdi>Emily Schrader</bdi>" in html
    assert '<bdi lang="en">Elon Musk</bdi>' in html
    assert "Why it matters." in html
    assert "2</strong> have signed" in html
    meter = elements(html, "meter")[0]
    assert (meter["value"], meter["max"]) == ("2", "1000")


def test_petition_page_shows_letter_in_page_language_then_the_other(client):
    petition = make_petition(
        letter_en="Dear Minister, act now.", letter_fa="وزیر محترم، اقدام کنید."
    )
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    letters = elements(html, "section", class_="petition__letter letter")
    other = elements(html, "section", class_="petition__letter letter letter--other")
    assert (letters[0]["lang"], letters[0]["dir"]) == ("fa", "rtl")
    assert (other[0]["lang"], other[0]["dir"]) == ("en", "ltr")
    assert html.index("وزیر محترم") < html.index("Dear Minister")


def test_pages_link_their_translations_with_hreflang(client):
    petition = make_petition()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    alternates = {
        link["hreflang"]: link["href"]
        for link in elements(html, "link", rel="alternate")
        if "hreflang" in link  # not the oEmbed discovery link
    }
    assert alternates == {
        "en": f"http://testserver/en/p/{petition.slug}/",
        "fa": f"http://testserver/fa/p/{petition.slug}/",
    }


def test_language_switcher_points_to_the_same_petition(client):
    petition = make_petition()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    switch = elements(html, "a", hreflang="fa", rel="alternate")
    assert switch[0]["href"] == f"/fa/p/{petition.slug}/"
    assert switch[0]["lang"] == "fa"


def test_persian_page_shows_solar_hijri_date(client):
    import datetime

    opened = datetime.datetime(2022, 11, 10, 12, tzinfo=datetime.UTC)
    petition = make_petition(opened_at=opened)
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert "۱۹ آبان ۱۴۰۱" in html
    assert "10 November 2022" in client.get(f"/en/p/{petition.slug}/").content.decode()


def test_unknown_petition_is_not_found(client):
    assert client.get("/en/p/no-such-petition/").status_code == 404
