"""Every public page describes itself to search engines and link previews (the home
page had no description)."""

import pytest

from tests.html import elements

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "words"), [("en", "Petitions in English and Persian"), ("fa", "کارزارها")]
)
def test_home_page_has_a_meta_description_in_its_language(client, language, words):
    html = client.get(f"/{language}/").content.decode()
    descriptions = elements(html, "meta", name="description")
    assert len(descriptions) == 1
    assert descriptions[0]["content"].startswith(words)
