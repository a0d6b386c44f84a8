"""The printable signature sheet: an A4 PDF per petition and language with the title, the
summary, the recipient, numbered rows to sign in, the line that paper counts as online, the
privacy note and where to return it; Persian shaped right to left with Persian digits; public
petitions only; cacheable with the petition's edit marker."""

import re
import shutil
import subprocess
import unicodedata

import pytest
from django.urls import reverse

from petitions.models import Petition
from tests.factories import make_petition

pytestmark = pytest.mark.django_db

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HOSTILE_TITLE = 'Save the "Green" park\'s <script>alert(1)</script> & co 🌳'


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(content)
    out = subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return " ".join(BIDI_CONTROLS.sub("", unicodedata.normalize("NFC", out)).split())


def pages(content: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


def sheet(client, petition, language="en"):
    return client.get(
        f"/{language}" + reverse("petitions:sheet", kwargs={"slug": petition.slug})[3:]
    )


def test_english_sheet_has_the_petition_the_rows_and_the_promises(client, tmp_path, settings):
    settings.PAPER_RETURN_ADDRESS = "Petitions, PO Box 123, London"
    petition = make_petition(title_en="Free the press now", addressed_to_en="The Minister")
    response = sheet(client, petition)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    for expected in (
        "Free the press now",
        "To: The Minister",
        "A short summary in English.",
        "counts the same as signing online",
        "Full name",
        "Email (optional)",
        "Country",
        "Signature",
        "never shown",
        "Please return this sheet to: Petitions, PO Box 123, London",
    ):
        assert expected in text, expected
    assert re.search(r"\b1 2 3 4 5 6 7 8\b", text)  # at least eight numbered rows
    assert pages(response.content, tmp_path) == 1


def test_without_a_return_address_the_sheet_names_the_contact_and_site(client, tmp_path, settings):
    settings.PAPER_RETURN_ADDRESS = ""
    settings.PRIVACY_CONTACT = "privacy@petitions.example"
    text = pdf_text(sheet(client, make_petition()).content, tmp_path)
    assert "privacy@petitions.example" in text
    assert "Please return this sheet to the person who gave it to you" in text


def test_persian_sheet_is_shaped_in_order_with_persian_digits(client, tmp_path):
    petition = make_petition(title_fa="آزادی مطبوعات را پاس بداریم", addressed_to_fa="وزیر ارشاد")
    text = pdf_text(sheet(client, petition, "fa").content, tmp_path)
    assert "آزادی مطبوعات را پاس بداریم" in text  # words in reading order
    assert "وزیر ارشاد" in text
    assert "امضا" in text
    assert re.search("۱ ۲ ۳ ۴ ۵ ۶ ۷ ۸", text)
    # No Latin digit on the Persian sheet but in the addresses it prints.
    without_addresses = re.sub(r"\S*(?:https?://|@)\S*", "", text)
    assert not re.search(r"[0-9]", without_addresses), without_addresses


def test_arabic_yeh_and_kaf_in_a_title_are_printed_as_stored(client, tmp_path):
    petition = make_petition(title_fa="كتابخانه ي ملي")
    text = pdf_text(sheet(client, petition, "fa").content, tmp_path)
    assert "كتابخانه ي ملي" in text


def test_hostile_and_long_titles_fit_one_page_with_a_mark_for_the_emoji(client, tmp_path):
    petition = make_petition(title_en=HOSTILE_TITLE + " " + "very long words " * 8)
    response = sheet(client, petition)
    text = pdf_text(response.content, tmp_path)
    assert '"Green" park\'s <script>alert(1)</script> & co \ufffd' in text
    assert pages(response.content, tmp_path) == 1


def test_a_petition_in_english_only_gets_an_english_sheet_at_the_persian_address(client, tmp_path):
    petition = make_petition(title_fa="", summary_fa="", letter_fa="", addressed_to_fa="")
    text = pdf_text(sheet(client, petition, "fa").content, tmp_path)
    assert "Full name" in text


def test_only_public_petitions_have_a_sheet(client):
    assert sheet(client, make_petition(status=Petition.Status.DRAFT)).status_code == 404


def test_the_sheet_is_cacheable_and_revalidates_until_the_petition_is_edited(client):
    petition = make_petition()
    first = sheet(client, petition)
    assert "public" in first["Cache-Control"]
    url = reverse("petitions:sheet", kwargs={"slug": petition.slug})
    again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    petition.title_en = "A new title"
    petition.save()
    assert client.get(url, headers={"if-none-match": first["ETag"]}).status_code == 200


def test_the_petition_page_links_to_the_sheet_in_both_languages(client):
    petition = make_petition()
    url = reverse("petitions:sheet", kwargs={"slug": petition.slug})
    english = client.get(petition.get_absolute_url()).content.decode()
    assert url in english and "print a sheet" in english
    with_persian = client.get("/fa" + petition.get_absolute_url()[3:]).content.decode()
    assert "/fa/" + url[4:] in with_persian
