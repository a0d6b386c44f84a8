"""Paper batches as a moderator enters them: rows read from a CSV are normalised as online input,
deduplicated by canonical email against the online signatures and earlier paper rows (rows
without an email never are), invalid rows reported with their row numbers; the admin checks
before it enters, only moderators may enter or remove, and both leave an audit entry."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lib.models import AuditEntry
from signatures import paper
from signatures.models import PaperBatch
from tests.factories import make_petition, make_signature, make_staff, make_staff_in

pytestmark = pytest.mark.django_db


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_rows_are_normalised_like_online_input():
    petition = make_petition()
    data = csv_bytes(
        "name,email,country",
        "\u202eعلي كريمي\u202c,  ALI.K@Example.com ,IR",
        "Maryam, ,Iran",
        "رضا,reza@example.com,ایران",
    )
    reading = paper.read_csv(petition, data)
    assert reading.invalid == [] and reading.duplicates == []
    [ali, maryam, reza] = reading.accepted
    assert ali.name == "علی کریمی"  # Arabic Yeh and Kaf made Persian, bidi controls gone
    assert ali.email == "ALI.K@Example.com"
    assert ali.email_canonical == "ali.k@example.com"
    assert (maryam.email, maryam.email_canonical, maryam.country) == ("", "", "IR")
    assert reza.country == "IR"  # a Persian country name


def test_a_row_whose_email_signed_online_is_a_duplicate_by_canonical_email():
    petition = make_petition()
    make_signature(petition, email="sara.karimi@gmail.com")
    make_signature(petition, email="reza@example.com")
    data = csv_bytes(
        "name,email,country",
        "Sara,Sara.Karimi+paper@GMAIL.com,GB",  # dots and a tag, as canonical_email drops them
        "Reza,REZA@example.com,GB",
        "Nima,nima@example.com,GB",
    )
    reading = paper.read_csv(petition, data)
    assert reading.duplicates == [(2, "online", None), (3, "online", None)]
    assert [row.name for row in reading.accepted] == ["Nima"]


def test_a_persian_digit_email_matches_its_latin_form():
    petition = make_petition()
    make_signature(petition, email="ali123@example.com")
    reading = paper.read_csv(petition, csv_bytes("Ali,ali۱۲۳@example.com,IR"))
    assert reading.duplicates == [(1, "online", None)]
    assert reading.accepted == []


def test_repeated_emails_in_one_file_count_once_and_name_the_first_row():
    petition = make_petition()
    data = csv_bytes("name,email,country", "Anna,anna@example.com,DE", "Anna L,ANNA@example.com,DE")
    reading = paper.read_csv(petition, data)
    assert reading.duplicates == [(3, "file", 2)]
    assert len(reading.accepted) == 1


def test_rows_without_email_are_never_duplicates():
    petition = make_petition()
    data = csv_bytes("name,email,country", "Anna,,DE", "Anna,,DE", "Anna,,DE")
    reading = paper.read_csv(petition, data)
    assert len(reading.accepted) == 3 and reading.duplicates == []


def test_an_earlier_paper_row_makes_a_later_one_a_duplicate_until_its_batch_is_removed():
    petition = make_petition()
    moderator = make_staff()
    first, _reading = paper.enter_rows(
        petition, data=csv_bytes("Anna,anna@example.com,DE"), description="Fair", by=moderator
    )
    again = paper.read_csv(petition, csv_bytes("Anna,anna@example.com,DE"))
    assert again.duplicates == [(1, "paper", None)]
    paper.remove(first, by=moderator)
    assert paper.read_csv(petition, csv_bytes("Anna,anna@example.com,DE")).duplicates == []


def test_invalid_rows_are_reported_with_their_row_numbers():
    petition = make_petition()
    data = csv_bytes(
        "name,email,country",
        "Anna,not-an-email,DE",
        "=HYPERLINK(1),x@example.com,DE",
        "Bob,bob@example.com,Atlantis",
        ",,",  # blank: skipped, not a row
        "Carl,carl@example.com",
        "Dina,dina@example.com,FR",
        "E" * 101 + ",e@example.com,FR",
    )
    reading = paper.read_csv(petition, data)
    assert reading.invalid == [
        (2, "email"),
        (3, "name"),
        (4, "country"),
        (6, "columns"),
        (8, "long"),
    ]
    assert [row.name for row in reading.accepted] == ["Dina"]


def test_entering_rows_keeps_the_counted_ones_and_the_report():
    petition = make_petition()
    make_signature(petition, email="taken@example.com")
    data = csv_bytes(
        "name,email,country", "A,taken@example.com,GB", "B,b@example.com,GB", "C,,GB", "D,x,GB"
    )
    batch, _reading = paper.enter_rows(petition, data=data, description="Stall", by=make_staff())
    assert batch.count == 2 and batch.kind == PaperBatch.Kind.ROWS
    assert list(batch.rows.values_list("row", "name")) == [(3, "B"), (4, "C")]
    assert batch.report == {
        "rows": 4,
        "duplicates": [[2, "online", None]],
        "invalid": [[5, "email"]],
    }


def test_a_file_with_nothing_countable_enters_no_batch():
    petition = make_petition()
    batch, reading = paper.enter_rows(
        petition, data=csv_bytes("A,nope,GB"), description="x", by=make_staff()
    )
    assert batch is None and reading.invalid == [(1, "email")]
    assert not PaperBatch.objects.exists()


def test_entering_and_removing_leave_audit_entries():
    petition = make_petition()
    moderator = make_staff()
    batch = paper.enter_count(petition, count=312, description="Book fair", by=moderator)
    assert paper.remove(batch, by=moderator)
    assert not paper.remove(batch, by=moderator)  # twice takes it off once
    entries = AuditEntry.objects.filter(action__startswith="paper.").order_by("pk")
    assert [(e.action, e.detail["signatures"], e.detail["note"], e.actor) for e in entries] == [
        ("paper.entered", 312, "Book fair", moderator),
        ("paper.removed", 312, "Book fair", moderator),
    ]


def upload(rows: bytes):
    return SimpleUploadedFile("sheets.csv", rows, content_type="text/csv")


def test_admin_checks_the_file_then_enters_it(client):
    petition = make_petition()
    make_signature(petition, email="taken@example.com")
    client.force_login(make_staff_in("Moderators", "mod"))
    add = reverse("admin:signatures_paperbatch_add")
    rows = csv_bytes("name,email,country", "A,taken@example.com,GB", "B,b@example.com,GB", "C,x,GB")
    checked = client.post(
        add, {"petition": petition.pk, "description": "Book fair", "rows": upload(rows)}
    )
    assert checked.status_code == 200
    page = checked.content.decode()
    assert "Already signed online" in page and "Not an email address" in page
    assert not PaperBatch.objects.exists()  # nothing saved by checking
    entered = client.post(add, {"confirm": "yes", "payload": checked.context["checked"]["payload"]})
    batch = PaperBatch.objects.get()
    assert entered.url == reverse("admin:signatures_paperbatch_change", args=[batch.pk])
    assert batch.count == 1
    shown = client.get(entered.url).content.decode()
    assert "Already signed online" in shown and "Not an email address" in shown


def test_admin_enters_a_number_typed_in_persian_digits(client):
    petition = make_petition()
    client.force_login(make_staff_in("Moderators", "mod"))
    add = reverse("admin:signatures_paperbatch_add")
    checked = client.post(add, {"petition": petition.pk, "description": "نمایشگاه", "count": "۳۱۲"})
    client.post(add, {"confirm": "yes", "payload": checked.context["checked"]["payload"]})
    assert PaperBatch.objects.get().count == 312


def test_admin_wants_a_number_or_a_file_not_both(client):
    petition = make_petition()
    client.force_login(make_staff_in("Moderators", "mod"))
    add = reverse("admin:signatures_paperbatch_add")
    both = {"petition": petition.pk, "description": "x", "count": "3", "rows": upload(b"A,,GB\n")}
    assert client.post(add, both).context["checked"] is None
    assert (
        client.post(add, {"petition": petition.pk, "description": "x"}).context["checked"] is None
    )


def test_a_tampered_check_enters_nothing(client):
    petition = make_petition()
    client.force_login(make_staff_in("Moderators", "mod"))
    add = reverse("admin:signatures_paperbatch_add")
    checked = client.post(add, {"petition": petition.pk, "description": "x", "count": "3"})
    payload = checked.context["checked"]["payload"]
    client.post(add, {"confirm": "yes", "payload": payload[:-2] + "xx"})
    assert not PaperBatch.objects.exists()


def test_organisers_can_neither_enter_nor_remove(client):
    petition = make_petition()
    batch = paper.enter_count(petition, count=5, description="x", by=make_staff())
    client.force_login(make_staff_in("Organisers", "org"))
    assert client.get(reverse("admin:signatures_paperbatch_add")).status_code == 403
    remove = reverse("admin:signatures_paperbatch_delete", args=[batch.pk])
    assert client.post(remove).status_code == 403
    batch.refresh_from_db()
    assert batch.removed_at is None


def test_a_moderator_removes_a_batch_from_the_admin(client):
    petition = make_petition()
    batch = paper.enter_count(petition, count=5, description="x", by=make_staff())
    client.force_login(make_staff_in("Moderators", "mod"))
    remove = reverse("admin:signatures_paperbatch_delete", args=[batch.pk])
    assert "Remove this batch" in client.get(remove).content.decode()
    client.post(remove)
    batch.refresh_from_db()
    assert batch.removed_at is not None
    assert PaperBatch.objects.filter(pk=batch.pk).exists()  # kept for the record


def test_a_batch_entered_from_the_command_line_names_its_operator_in_the_audit():
    petition = make_petition()
    batch = paper.enter_count(petition, count=7, description="Archive", by="ops: sara")
    assert batch.entered_by is None
    assert paper.remove(batch, by="ops: sara")
    entries = AuditEntry.objects.filter(action__startswith="paper.")
    assert {entry.actor_label for entry in entries} == {"ops: sara"}
