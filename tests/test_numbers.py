"""Numbers and plurals as a reader of each language expects them, on every output: one
signature is "1 signature", and a Persian number is in Persian digits grouped by one separator
(U+066C, never an ASCII comma)."""

import re
from pathlib import Path

import pytest
from django.utils import timezone, translation
from PIL import ImageDraw

from petitions import delivery, share
from petitions.starting import starter_message
from signatures.confirmation import confirmation_email
from signatures.models import SignatureCount
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db

ONE_PLURAL = re.compile(
    r"(?<![\d.,])1 (signatures|people|signers|names|hours|petitions|updates|results)\b"
)
COMMA_IN_PERSIAN_NUMBER = re.compile(r"[۰-۹],[۰-۹]")
LATIN_DIGIT = re.compile(r"[0-9]")


def well_counted(text: str, language: str) -> None:
    assert not ONE_PLURAL.search(text), ONE_PLURAL.search(text).group(0)
    if language == "fa":
        assert not COMMA_IN_PERSIAN_NUMBER.search(text), text


def drawn_text(monkeypatch) -> list[str]:
    drawn = []
    original = ImageDraw.ImageDraw.text

    def record(self, xy, text, *args, **kwargs):
        drawn.append(text)
        return original(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", record)
    return drawn


def test_the_share_image_says_1_signature_in_english(monkeypatch):
    drawn = drawn_text(monkeypatch)
    share.render(make_petition(), "en", 1)
    assert "1 signature" in drawn
    well_counted("\n".join(drawn), "en")


def test_the_share_image_groups_persian_thousands_with_the_persian_separator(monkeypatch):
    drawn = drawn_text(monkeypatch)
    share.render(make_petition(goal=75000), "fa", 52222)
    assert any("۵۲٬۲۲۲" in line for line in drawn)
    well_counted("\n".join(drawn), "fa")


def pdf_text(monkeypatch, petition, language: str, **facts) -> str:
    written = []
    monkeypatch.setattr(
        delivery.PackPDF, "paragraph", lambda self, text, *a, **k: written.append(text)
    )
    monkeypatch.setattr(
        delivery.PackPDF,
        "table",
        lambda self, rows, header, *a, **k: written.extend(" | ".join(row) for row in rows),
    )
    now = timezone.now()
    fields = {
        "total": 1,
        "named": 1,
        "countries": [("GB", 1)],
        "first_signed": now,
        "last_signed": now,
        "made_at": now,
    } | facts
    pdf = delivery.PackPDF("pack")
    delivery.front_pages(pdf, petition, delivery.Facts(**fields), language)
    delivery.names_heading(pdf, petition, delivery.Facts(**fields))
    return "\n".join(written)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_delivery_pack_counts_one_signer_in_the_singular(monkeypatch, language):
    petition = make_petition(original_language=language)
    text = pdf_text(monkeypatch, petition, language)
    well_counted(text, language)
    if language == "en":
        assert "1 person signed this petition." in text
        assert "The 1 signer who agreed to be named" in text


def test_the_delivery_pack_groups_persian_thousands_with_the_persian_separator(monkeypatch):
    petition = make_petition(original_language="fa")
    text = pdf_text(monkeypatch, petition, "fa", total=52222, named=12000, countries=[])
    assert "۵۲٬۲۲۲" in text and "۱۲٬۰۰۰" in text
    well_counted(text, "fa")


def test_the_admins_delivery_progress_is_in_persian_digits_and_separator():
    from django.contrib import admin

    from petitions.models import DeliveryPack

    pack_admin = admin.site._registry[DeliveryPack]

    class Pack:
        percent, names_done, names_total = 50, 1500, 3000

    with translation.override("fa"):
        shown = str(pack_admin.progress(Pack()))
    assert "۱٬۵۰۰" in shown and "۳٬۰۰۰" in shown
    assert not COMMA_IN_PERSIAN_NUMBER.search(shown)


def persian_signature():
    petition = make_petition(title_fa="آزادی مطبوعات", requires_confirmation=True)
    return make_signature(petition, name="سارا کریمی", language="fa", status="pending")


def test_every_number_in_a_persian_confirmation_email_is_in_persian_digits():
    message = confirmation_email(persian_signature())
    text = message.subject + message.body
    without_links = re.sub(r"https?://\S+", "", text)
    assert "۷۲" in without_links
    assert not LATIN_DIGIT.search(without_links), without_links


@pytest.mark.parametrize("reason", ["new", "limit"])
def test_every_number_in_a_persian_starter_email_is_in_persian_digits(reason):
    petition = make_petition(title_fa="آزادی مطبوعات")
    message = starter_message(
        "start-link",
        "fa",
        "sara@example.com",
        {"reason": reason, "limit": 3, "items": [], "petition": petition},
    )
    without_links = re.sub(r"https?://\S+", "", message.subject + message.body)
    assert "۷۲" in without_links
    assert not LATIN_DIGIT.search(without_links), without_links


@pytest.mark.parametrize("language", ["en", "fa"])
def test_public_pages_count_one_signature_in_the_singular(client, language):
    petition = make_petition(goal=1)
    make_signature(petition)
    for path in ("", "poster/", "embed/", "badge/", "thanks/"):
        html = client.get(f"/{language}/p/{petition.slug}/{path}").content.decode()
        well_counted(re.sub(r"<[^>]+>", "", html), language)
    home = client.get(f"/{language}/").content.decode()
    well_counted(re.sub(r"<[^>]+>", "", home), language)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_public_pages_group_persian_thousands_with_the_persian_separator(client, language):
    petition = make_petition(goal=75000)
    make_signature(petition)
    SignatureCount.add(petition.pk, 52221)
    for path in ("", "poster/", "embed/", "badge/"):
        html = client.get(f"/{language}/p/{petition.slug}/{path}").content.decode()
        well_counted(html, language)
        if language == "fa":
            assert "۵۲٬۲۲۲" in html


def test_no_count_is_written_with_a_parenthesised_plural():
    """ngettext picks "1 update" or "2 updates"; a translated "update(s)" reads wrong in both
    languages. (Log lines, read by operators in English, are not translated.)"""
    import petitions
    import signatures

    for app in (petitions, signatures):
        for source in Path(app.__file__).parent.rglob("*.py"):
            assert not re.search(r"_\(\s*\"[^\"]*\w\(s\)", source.read_text()), source
