"""Paper signatures in the count: a batch adds its number to the one count every reader reads
(the counter, count.json, the API, thresholds), the public record says where it came from, the
counter splits online from paper in both languages, removing it takes the number off, a recount
keeps it, and the delivery pack counts it beside the online signatures without putting it in the
Merkle tree."""

import csv
import re
from pathlib import Path

import pytest

from petitions import thresholds
from petitions.delivery import build
from petitions.models import DeliveryPack, Threshold
from signatures import counting, paper, record
from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, make_signature, make_staff, sign_form_data
from tests.test_delivery_pack import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator():
    return make_staff()


def test_a_batch_adds_its_number_to_every_reader_of_the_count(client, moderator):
    petition = make_petition()
    make_signature(petition)
    make_signature(petition)
    paper.enter_count(petition, count=312, description="Book fair", by=moderator)

    snapshot = counting.exact_count(petition)
    assert (snapshot.count, snapshot.paper, snapshot.online) == (314, 312, 2)
    body = client.get(f"/en/p/{petition.slug}/count.json").json()
    assert (body["count"], body["paper"]) == (314, 312)
    api = client.get(f"/api/v1/petitions/{petition.slug}/count").json()
    assert (api["count"], api["paper"]) == (314, 312)
    detail = client.get(f"/api/v1/petitions/{petition.slug}").json()
    assert detail["count"] == 314
    assert detail["record"]["changes"]["paper_added"] == 312
    assert detail["record"]["total"] == 314


def test_without_paper_count_json_says_zero(client):
    petition = make_petition()
    make_signature(petition)
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["paper"] == 0


def test_removing_a_batch_takes_its_number_off(moderator):
    petition = make_petition()
    make_signature(petition)
    batch = paper.enter_count(petition, count=40, description="Stall", by=moderator)
    paper.remove(batch, by=moderator)
    snapshot = counting.exact_count(petition)
    assert (snapshot.count, snapshot.paper) == (1, 0)
    assert record.summary(petition.pk).total == 1


def test_the_record_lists_each_batch_with_its_description(client, moderator):
    petition = make_petition()
    make_signature(petition)
    fair = paper.enter_count(petition, count=312, description="Tehran book fair", by=moderator)
    paper.enter_count(petition, count=5, description="Street stall", by=moderator)
    paper.remove(fair, by=moderator)
    days = record.days(petition.pk)
    lines = {(day.kind, day.note, day.delta) for day in days}
    assert lines == {
        ("paper_added", "Tehran book fair", 312),
        ("paper_added", "Street stall", 5),
        ("paper_removed", "Tehran book fair", -312),
    }
    assert record.summary(petition.pk).total == counting.exact_count(petition).count == 6
    english = client.get(f"/en/p/{petition.slug}/record/").content.decode()
    assert "Added on paper" in english and "Paper batches removed" in english
    assert "Tehran book fair" in english
    persian = client.get(f"/fa/p/{petition.slug}/record/").content.decode()
    assert "افزوده از روی کاغذ" in persian and "۳۱۲" in persian


def test_a_recount_keeps_the_paper_in_the_count(moderator):
    petition = make_petition()
    make_signature(petition)
    paper.enter_count(petition, count=10, description="x", by=moderator)
    SignatureCount.set_total(petition.pk, 3)  # drifted
    assert counting.recount(petition) == 8
    assert counting.exact_count(petition).count == 11


def test_paper_counts_towards_thresholds(moderator):
    petition = make_petition()
    Threshold.objects.create(number=100, consequence_en="a debate", consequence_fa="بحث")
    paper.enter_count(petition, count=100, description="x", by=moderator)
    reached = thresholds.record_reached()
    assert [(row.petition_id, row.number) for row in reached] == [(petition.pk, 100)]


def counter_text(client, petition, language: str) -> str:
    page = client.get(f"/{language}/p/{petition.slug}/").content.decode()
    found = re.search(r'<p class="counter__paper"[^>]*>(.*?)</p>', page, re.S)
    return " ".join(found.group(1).split()) if found else ""


def test_the_counter_says_online_and_on_paper_in_both_languages(client, moderator):
    petition = make_petition()
    for _ in range(3):
        make_signature(petition)
    paper.enter_count(petition, count=3100, description="x", by=moderator)
    assert counter_text(client, petition, "en") == "3 online and 3,100 on paper"
    assert counter_text(client, petition, "fa") == "۳ امضای آنلاین و ۳٬۱۰۰ امضای کاغذی"


def test_the_counter_is_as_before_without_paper(client):
    petition = make_petition()
    make_signature(petition)
    page = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "counter__paper" not in page


def test_the_pack_counts_paper_beside_online_and_names_paper_rows(moderator, settings, tmp_path):
    settings.DELIVERY_PACK_ROOT = tmp_path / "packs"
    petition = make_petition()
    make_signature(petition, name="Online Person")
    paper.enter_count(petition, count=300, description="Book fair", by=moderator)
    rows = b"name,email,country\nParisa Ahmadi,,DE\nHidden Safe,,IR\n"
    paper.enter_rows(petition, data=rows, description="Sheets", by=moderator)
    pack = build(DeliveryPack.objects.create(petition=petition))
    assert pack.signatures == 1  # the online signatures, the tree's leaves

    with Path(pack.csv.path).open(encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    values = {row[0]: row[3] for row in table}
    assert (values["total"], values["paper"], values["total_with_paper"]) == ("1", "302", "303")
    assert ["paper_batch", "", "Book fair", "300"] in table
    assert ["paper_name", "DE", "Germany", "Parisa A."] in table
    assert not any("Hidden" in cell for row in table for cell in row)  # in Iran: not named

    text = pdf_text(Path(pack.pdf.path))
    assert "303 people signed this petition." in text
    assert "1 online and 302 on paper" in text
    assert "not in this fingerprint" in text
    assert "Parisa A." in text


def test_the_thanks_page_counter_splits_online_and_paper_too(client, moderator):
    petition = make_petition()
    make_signature(petition)
    paper.enter_count(petition, count=20, description="x", by=moderator)
    page = client.get(f"/en/p/{petition.slug}/thanks/").content.decode()
    assert re.search(r'class="counter__paper"[^>]*>\s*1 online and 20 on paper', page)


@pytest.mark.parametrize("address", ["", "embed/", "badge/"])
def test_the_widget_and_the_badge_split_online_and_paper(client, moderator, address):
    petition = make_petition()
    make_signature(petition)
    paper.enter_count(petition, count=20, description="x", by=moderator)
    page = client.get(f"/fa/p/{petition.slug}/{address}").content.decode()
    assert re.search(r'class="counter__paper"[^>]*>\s*۱ امضای آنلاین و ۲۰ امضای کاغذی', page)


@pytest.mark.parametrize("requires_confirmation", [False, True])
def test_a_paper_signer_who_signs_online_too_is_counted_once(
    client, moderator, requires_confirmation
):
    petition = make_petition(requires_confirmation=requires_confirmation)
    data = b"name,email,country\nSara Karimi,Sara.Karimi@Example.com,GB\n"
    paper.enter_rows(petition, data=data, description="Stall", by=moderator)
    assert counting.exact_count(petition).count == 1

    response = client.post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition, name="Sara Karimi", email="sara.karimi@example.com"),
    )

    assert response.status_code == 302  # the same answer as a first signature
    assert counting.exact_count(petition).count == 1
    assert not Signature.objects.filter(petition=petition).exists()


def test_an_online_signer_is_not_blocked_by_another_address_on_paper(client, moderator):
    petition = make_petition()
    data = b"name,email,country\nSara Karimi,sara@example.com,GB\n"
    paper.enter_rows(petition, data=data, description="Stall", by=moderator)
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email="reza@example.com"))
    assert counting.exact_count(petition).count == 2
