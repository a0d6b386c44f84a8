"""How many supporters a petition has, and how many it needs, on its starter's page and its
supporters' page, in the reader's digits."""

import pytest

from petitions import cosponsors
from tests.factories import as_starter, make_cosponsor, make_gathering_petition

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_of_five(settings):
    settings.COSPONSORS_REQUIRED = 5
    petition = make_gathering_petition()
    for _ in range(3):
        make_cosponsor(petition)
    make_cosponsor(petition, confirmed=False)
    make_cosponsor(petition, email=petition.starter_email)
    return petition


def test_the_starters_page_shows_progress_in_persian_digits(client, three_of_five):
    as_starter(client, three_of_five)
    html = client.get(f"/fa/my/{three_of_five.slug}/").content.decode()
    assert "۳ از ۵ حامی" in html
    assert 'data-supporters="3"' in html and "3 of 5" not in html


def test_the_starters_page_shows_progress_in_english(client, three_of_five):
    as_starter(client, three_of_five)
    html = client.get(f"/en/my/{three_of_five.slug}/").content.decode()
    assert "3 of 5 supporters" in html
    assert "Gathering supporters" in html


def test_the_supporters_page_says_it_is_not_yet_published_and_shows_progress(client, three_of_five):
    html = client.get(cosponsors.link_path(three_of_five, "fa")).content.decode()
    assert "۳ از ۵ حامی" in html
    assert "هنوز منتشر نشده" in html
    english = client.get(cosponsors.link_path(three_of_five, "en")).content.decode()
    assert "Not yet published: you are asked to co-sponsor this petition." in english
    assert english.count("<h1") == 1
