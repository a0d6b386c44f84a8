"""The privacy page says how signers are protected, in both languages, in plain words, and names the
contact for erasure requests from settings."""

import re

import pytest

from tests.html import elements

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(settings):
    settings.PRIVACY_CONTACT = "erase@petitions.example.org"
    settings.SITE_URL = "https://petitions.example.org"
    settings.MIRROR_HOSTS = ["mirror.example.net"]
    settings.ONION_URL = "http://exampleonion.onion"
    settings.COUNTRY_COUNT_MINIMUM = 10
    return settings


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["never if you signed from Iran", "other countries", "Tor Browser", "at least 10"]),
        ("fa", ["هرگز اگر از ایران امضا کرده باشید", "کشورهای دیگر", "مرورگر تور", "۱۰"]),
    ],
)
def test_the_privacy_page_says_it_all_and_names_the_erasure_contact(
    client, configured, language, words
):
    html = client.get(f"/{language}/privacy/").content.decode()
    assert elements(html, "a", href="mailto:erase@petitions.example.org")
    for address in (
        "https://petitions.example.org",
        "https://mirror.example.net",
        "http://exampleonion.onion",
    ):
        assert f'<bdi dir="ltr">{address}</bdi>' in html, address
    for word in words:
        assert word in html, word


def test_the_privacy_page_speaks_plainly(client, configured):
    assert "hash" not in client.get("/en/privacy/").content.decode().lower()
    persian = client.get("/fa/privacy/").content.decode()
    assert not re.search(r"\bهش", persian)  # "hash", as a word of its own
    assert "کلیددار" not in persian


def test_without_mirrors_or_onion_the_page_does_not_mention_them(client, settings):
    settings.MIRROR_HOSTS = []
    settings.ONION_URL = ""
    html = client.get("/en/privacy/").content.decode()
    assert "Tor Browser" not in html
    assert "can also be reached at" not in html
    assert elements(html, "a", href=f"mailto:{settings.PRIVACY_CONTACT}")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "without anything from a “+” to the @, and for Gmail without dots"),
        ("fa", "بدون آنچه از «+» تا @ آمده، و در جیمیل بدون نقطه‌های پیش از @"),
    ],
)
def test_the_privacy_page_says_how_addresses_are_compared(client, language, words):
    assert words in client.get(f"/{language}/privacy/").content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["receipt code", "only a scrambled form", "Withdrawing takes your signature off"]),
        ("fa", ["کد رسید", "شکلی درهم‌شده", "پس گرفتن، امضایتان را بی‌درنگ"]),
    ],
)
def test_the_privacy_page_explains_receipts_and_withdrawal(client, language, words):
    html = client.get(f"/{language}/privacy/").content.decode()
    for word in words:
        assert word in html
