"""Similar open petitions offered before a new one is saved: trigram word similarity
on PostgreSQL, a plain comparison elsewhere, both over titles folded like the sign form folds
what people type (Arabic Yeh and Kaf, ZWNJ typed, left out or spaced)."""

import pytest
from django.db import connection

from petitions.models import Petition, search_key, title_likeness
from tests.factories import make_petition, start_form_data

pytestmark = pytest.mark.django_db

# Each case: the open petition's title, what a starter types, and the language it is in.
NEAR_DUPLICATES = [
    ("Free the jailed journalists", "Free jailed journalists now", "en"),
    ("Save Lake Urmia from drying up", "save lake urmia", "en"),
    # The stored title with ZWNJ, the typed one without, and the reverse.
    ("آزادی روزنامه‌نگاران زندانی", "آزادی روزنامهنگاران زندانی", "fa"),
    ("آزادی روزنامهنگاران زندانی", "آزادی روزنامه‌نگاران زندانی", "fa"),
    ("آزادی روزنامه‌نگاران زندانی", "آزادی روزنامه نگاران زندانی", "fa"),
    # Arabic Yeh and Kaf typed on an Arabic keyboard, Persian letters stored; and the reverse.
    ("نجات دریاچه ارومیه کوچک", "نجات درياچه اروميه كوچك", "fa"),
    ("نجات درياچه اروميه كوچك", "نجات دریاچه ارومیه کوچک", "fa"),
]


@pytest.mark.parametrize(("stored", "typed", "language"), NEAR_DUPLICATES)
def test_a_near_duplicate_title_finds_the_open_petition(stored, typed, language):
    other = "en" if language == "fa" else "fa"
    existing = make_petition(**{f"title_{language}": stored, f"title_{other}": "Unrelated words"})
    make_petition(title_en="Plant more trees in Tehran", title_fa="درخت بیشتر در تهران")
    assert Petition.objects.similar_to(typed) == [existing]


def test_a_different_title_finds_nothing():
    make_petition(title_en="Free the jailed journalists", title_fa="آزادی روزنامه‌نگاران زندانی")
    assert Petition.objects.similar_to("Lower the price of bread") == []
    assert Petition.objects.similar_to("کاهش قیمت نان") == []


def test_only_open_petitions_are_offered():
    for status in (Petition.Status.PENDING, Petition.Status.REJECTED, Petition.Status.CLOSED):
        make_petition(status=status, title_en="Save Lake Urmia from drying up")
    make_petition(status=Petition.Status.DRAFT, title_en="Save Lake Urmia from drying up")
    assert Petition.objects.similar_to("Save Lake Urmia") == []


def test_the_preview_offers_a_near_duplicate_to_sign_instead(client):
    existing = make_petition(title_fa="نجات دریاچه ارومیه کوچک", title_en="Save little Urmia")
    data = start_form_data(title_fa="نجات درياچه اروميه كوچك")
    html = client.post("/fa/start/", {**data, "action": "preview"}).content.decode()
    assert "آیا کارزار شما یکی از این‌هاست؟" in html
    assert f'href="/fa/p/{existing.slug}/"' in html


def test_search_folds_text_as_the_sign_form_does():
    assert search_key("  درياچه\u200cی   كوچك ") == "دریاچهی کوچک"
    assert search_key("Save LAKE") == "save lake"


def test_the_fallback_comparison_reads_words_nearly_alike():
    assert title_likeness("save lake urmia", "save lake urmia from drying") == 1.0
    assert title_likeness("روزنامه نگاران", "روزنامهنگاران") >= 0.8
    assert title_likeness("lower bread prices", "save lake urmia") < 0.2


@pytest.mark.postgres
def test_postgresql_folds_titles_as_python_folds_queries_and_indexes_them():
    sample = "Save LAKE Urmia: نجات درياچه\u200cی كوچك"
    with connection.cursor() as cursor:
        cursor.execute("SELECT petition_search_fold(%s)", [sample])
        assert cursor.fetchone()[0] == search_key(sample)
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'petition_title_%%_trgm'"
        )
        assert sorted(row[0] for row in cursor.fetchall()) == [
            "petition_title_en_trgm",
            "petition_title_fa_trgm",
        ]
