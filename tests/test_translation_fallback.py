import pytest

from tests.factories import make_petition
from tests.html import elements

pytestmark = pytest.mark.django_db


def test_missing_persian_title_falls_back_to_english_marked_as_english(client):
    petition = make_petition(
        title_fa="", summary_fa="", letter_fa="", addressed_to_fa="", single_language=True
    )
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()

    h1 = elements(html, "h1")[0]
    assert (h1["lang"], h1["dir"]) == ("en", "ltr")
    summary = elements(html, "p", class_="petition__summary")[0]
    assert (summary["lang"], summary["dir"]) == ("en", "ltr")
    letter = elements(html, "section", class_="petition__letter letter")[0]
    assert (letter["lang"], letter["dir"]) == ("en", "ltr")
    # The page itself stays Persian, and the same English letter is not shown twice.
    assert 'lang="fa" dir="rtl"' in html
    assert not elements(html, "section", class_="petition__letter letter letter--other")


def test_missing_english_text_falls_back_to_persian_marked_as_persian(client):
    petition = make_petition(
        title_en="",
        summary_en="",
        letter_en="",
        original_language="fa",
        single_language=True,
    )
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    h1 = elements(html, "h1")[0]
    assert (h1["lang"], h1["dir"]) == ("fa", "rtl")
    assert petition.title_fa in html


def test_home_card_falls_back_per_field(client):
    make_petition(title_fa="", title_en="Only in English", single_language=True)
    html = client.get("/fa/").content.decode()
    title = elements(html, "h2", class_="petition-card__title")[0]
    assert (title["lang"], title["dir"]) == ("en", "ltr")
