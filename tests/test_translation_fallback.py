import pytest

from tests.factories import make_petition
from tests.html import elements

pytestmark = pytest.mark.django_db


def test_the_persian_page_of_an_english_only_petition_says_so_and_links_to_it(client):
    petition = make_petition(
        title_fa="", summary_fa="", letter_fa="", addressed_to_fa="", single_language=True
    )
    response = client.get(f"/fa/p/{petition.slug}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>این کارزار فقط به انگلیسی است</h1>" in html
    title = elements(html, "p", class_="only-in__title")[0]
    assert (title["lang"], title["dir"]) == ("en", "ltr")
    assert f'href="/en/p/{petition.slug}/"' in html
    # The page itself stays Persian, and offers no sign form in a language it is not in.
    assert 'lang="fa" dir="rtl"' in html
    assert "data-sign-form" not in html


def test_the_english_page_of_a_persian_only_petition_says_so_and_links_to_it(client):
    petition = make_petition(
        title_en="", summary_en="", letter_en="", addressed_to_en="", original_language="fa"
    )
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "<h1>This petition is only in Persian</h1>" in html
    title = elements(html, "p", class_="only-in__title")[0]
    assert (title["lang"], title["dir"]) == ("fa", "rtl")
    assert petition.title_fa in html
    assert f'href="/fa/p/{petition.slug}/"' in html


def test_an_addressee_written_in_one_language_falls_back_marked_as_that_language(client):
    petition = make_petition(addressed_to_fa="")
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert '<bdi lang="en">The Minister</bdi>' in html


def test_home_card_falls_back_per_field(client):
    make_petition(title_fa="", title_en="Only in English", single_language=True)
    html = client.get("/fa/").content.decode()
    title = elements(html, "h2", class_="petition-card__title")[0]
    assert (title["lang"], title["dir"]) == ("en", "ltr")
