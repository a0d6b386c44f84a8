"""The sign form's country list in the reader's alphabet: Persian pages sort by the
Persian alphabet, with Iran first as it is preselected; English pages alphabetically."""

import re
import unicodedata

import pytest

from lib.persian import PERSIAN_ALPHABET, collation_key
from tests.factories import make_petition

pytestmark = pytest.mark.django_db


def country_options(html: str) -> list[tuple[str, str]]:
    select = re.search(r'<select name="country".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([A-Z]{2})"[^>]*>([^<]+)</option>', select)


def persian_rank(name: str) -> list[int]:
    """Letters' places in the alphabet, word by word (a word break sorts before any letter); آ
    and ئ read as the ا and ی they are written on."""
    letters = unicodedata.normalize("NFKD", name).replace("ي", "ی")
    return [
        PERSIAN_ALPHABET.index(ch) if ch in PERSIAN_ALPHABET else -1
        for ch in letters
        if ch in PERSIAN_ALPHABET or ch in " -\u200c"
    ]


def test_persian_country_list_follows_the_persian_alphabet_with_iran_first(client):
    petition = make_petition()
    options = country_options(client.get(f"/fa/p/{petition.slug}/").content.decode())
    assert options[0][0] == "IR"
    assert re.search(
        r'<option value="IR" selected>', client.get(f"/fa/p/{petition.slug}/").content.decode()
    )
    names = [name for _code, name in options[1:]]
    assert [persian_rank(n) for n in names] == sorted(persian_rank(n) for n in names)
    # Concretely: پ and گ sit inside the alphabet, not after ی as code points would put them.
    position = {code: i for i, (code, _name) in enumerate(options)}
    assert position["PK"] < position["TR"]  # پاکستان before ترکیه
    assert position["GE"] < position["YE"]  # گرجستان before یمن
    assert position["CA"] < position["GE"]  # کانادا before گرجستان


def test_english_country_list_is_alphabetical_without_a_guess(client):
    petition = make_petition()
    options = country_options(client.get(f"/en/p/{petition.slug}/").content.decode())
    names = [name for _code, name in options]
    assert names == sorted(names, key=collation_key)
    assert options[0][1].startswith("Afghanistan")


def test_collation_ignores_case_accents_and_persian_joiners():
    assert sorted(["Éire", "Zambia", "albania"], key=collation_key) == ["albania", "Éire", "Zambia"]
    assert collation_key("می‌کند") == collation_key("می کند")
    assert sorted(["ژاپن", "یمن", "پرو", "بلژیک"], key=collation_key) == [
        "بلژیک",
        "پرو",
        "ژاپن",
        "یمن",
    ]
