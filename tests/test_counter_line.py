"""The sentence under the title, as on the seed page, in both languages with plural forms."""

import pytest

from petitions.demo.loader import load_demo
from signatures.models import SignatureCount
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def counter_line(html: str) -> str:
    import re

    start = html.index('<p class="counter__line">')
    line = html[start : html.index("</p>", start)]
    return " ".join(re.sub(r"<[^>]+>", "", line).split())


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "52,222 have signed Emily Schrader’s petition. Let’s get to 75,000!"),
        # The starter's name in Persian script on the Persian page.
        ("fa", "۵۲٬۲۲۲ نفر کارزار امیلی شریدر را امضا کرده‌اند. بیایید به ۷۵٬۰۰۰ برسیم!"),
    ],
)
def test_seed_petition_reads_as_the_seed_page(client, language, line):
    petition = load_demo(signatures=10)
    SignatureCount.set_total(petition.pk, 52_222)
    html = client.get(f"/{language}/p/{petition.slug}/").content.decode()
    assert counter_line(html) == line


def test_one_signature_uses_the_singular(client):
    petition = make_petition(starter_name="Sara")
    make_signature(petition)
    assert counter_line(client.get(f"/en/p/{petition.slug}/").content.decode()) == (
        "1 has signed Sara’s petition. Let’s get to 1,000!"
    )
    assert counter_line(client.get(f"/fa/p/{petition.slug}/").content.decode()) == (
        "۱ نفر کارزار Sara را امضا کرده است. بیایید به ۱٬۰۰۰ برسیم!"
    )


def test_no_signatures_invites_the_first(client):
    petition = make_petition()
    assert counter_line(client.get(f"/en/p/{petition.slug}/").content.decode()) == (
        "Be the first to sign. Let’s get to 1,000!"
    )


def test_passing_the_goal_shows_the_next_rung(client):
    petition = make_petition(goal=100)
    make_signature(petition)
    SignatureCount.set_total(petition.pk, 100)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert counter_line(html).endswith("Let’s get to 200!")
    assert 'max="200"' in html
