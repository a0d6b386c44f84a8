"""Signers' personal data is anonymised SIGNATURE_RETENTION_DAYS after their petition closes,
unless a moderator holds it: names, emails, comments and places go; the count, the countries,
the dates and the receipts stay. Holds are placed in the admin and audited; so is each run, by
how many rows and never whose."""

import datetime
import hashlib

import pytest
from django.core.management import call_command
from django.utils import timezone

from lib.models import AuditEntry
from petitions.models import Petition
from signatures.models import ANONYMISED_PREFIX, Signature, SignatureCount
from signatures.retention import anonymise_due, anonymise_due_signers
from tests.factories import make_petition, make_signature, make_staff, petition_admin_form

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def retention(settings):
    settings.SIGNATURE_RETENTION_DAYS = 30
    return datetime.timedelta(days=30)


def closed_petition(ago: datetime.timedelta, signers: int = 3) -> Petition:
    now = timezone.now()
    petition = make_petition(opened_at=now - ago - 10 * DAY, closes_at=now - ago)
    for n in range(signers):
        make_signature(
            petition,
            name=f"Sara Karimi {n}",
            email=f"sara{n}@example.com",
            comment="Because it matters",
            locality="تهران",
            country="IR",
            language="fa",
            ip_hash="abc123",
            consent_contact=True,
            confirmed_at=now - ago - 5 * DAY,
            receipt=hashlib.sha256(f"{petition.pk}-{n}".encode()).digest(),
        )
    return petition


def test_due_not_due_held_and_open_petitions(retention):
    due = closed_petition(retention + DAY)
    not_yet = closed_petition(retention - DAY)
    held = closed_petition(retention + DAY)
    held.set_hold("A complaint of fraud is being looked into", by=make_staff())
    still_open = make_petition()
    make_signature(still_open)
    assert list(Petition.objects.due_for_anonymising()) == [due]

    assert anonymise_due() == {due.slug: 3}
    assert not Signature.objects.filter(petition=due).exclude(email="").exists()
    for kept in (not_yet, held, still_open):
        assert not Signature.objects.filter(petition=kept, email="").exists()
    assert list(Petition.objects.due_for_anonymising()) == []


def test_a_petition_closed_by_a_moderator_counts_from_that_day(retention):
    petition = make_petition()
    make_signature(petition)
    petition.status = Petition.Status.CLOSED
    petition.save()
    assert petition.closed_at is not None
    assert list(Petition.objects.due_for_anonymising()) == []
    Petition.objects.filter(pk=petition.pk).update(closed_at=timezone.now() - retention - DAY)
    assert list(Petition.objects.due_for_anonymising()) == [petition]
    petition.refresh_from_db()
    petition.status = Petition.Status.OPEN  # opened again: no longer closed, no longer due
    petition.save()
    assert petition.closed_at is None
    assert list(Petition.objects.due_for_anonymising()) == []


def test_what_is_blanked_and_what_is_kept(retention):
    petition = closed_petition(retention + DAY)
    before = list(
        Signature.objects.filter(petition=petition)
        .order_by("pk")
        .values("pk", "status", "country", "language", "created_at", "confirmed_at", "receipt")
    )
    total = SignatureCount.objects.total_for(petition.pk)
    anonymise_due()
    rows = Signature.objects.filter(petition=petition).order_by("pk")
    for row, kept in zip(rows, before, strict=True):
        assert (row.name, row.email, row.comment, row.locality, row.ip_hash) == ("", "", "", "", "")
        assert row.email_canonical == f"{ANONYMISED_PREFIX}{row.pk}"
        assert "@" not in row.email_canonical
        assert not row.show_name and not row.consent_contact
        for field in ("status", "country", "language", "created_at", "confirmed_at"):
            assert getattr(row, field) == kept[field]
        assert bytes(row.receipt) == bytes(kept["receipt"])
    assert SignatureCount.objects.total_for(petition.pk) == total == 3
    assert Signature.objects.counted().filter(petition=petition).count() == 3
    assert rows.counts_by_country(1).countries == [("IR", 3)]


def test_one_audit_entry_per_petition_saying_how_many_never_whose(retention):
    first, second = closed_petition(retention + DAY, 2), closed_petition(retention + 2 * DAY, 4)
    anonymise_due()
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.SIGNATURE_ANONYMISED)
    assert sorted((e.target_id, e.detail) for e in entries) == [
        (first.pk, {"signatures": 2}),
        (second.pk, {"signatures": 4}),
    ]
    assert all(e.actor_label == "system" for e in entries)
    assert "sara" not in str([e.detail for e in entries]).lower()


def test_a_second_run_changes_nothing_and_writes_nothing(retention):
    petition = closed_petition(retention + DAY)
    anonymise_due()
    assert anonymise_due() == {}
    assert Signature.objects.filter(petition=petition).anonymise() == {}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SIGNATURE_ANONYMISED).count() == 1


def test_the_command_and_the_task(retention, capsys):
    petition = closed_petition(retention + DAY)
    call_command("anonymise_signers", "--dry-run")
    assert f"due: {petition.slug}" in capsys.readouterr().out
    assert Signature.objects.filter(petition=petition, email="").count() == 0
    call_command("anonymise_signers")
    assert f"{petition.slug}: 3 signers anonymised" in capsys.readouterr().out
    assert AuditEntry.objects.get(action=AuditEntry.Action.SIGNATURE_ANONYMISED).actor_label == (
        "anonymise_signers"
    )
    other = closed_petition(retention + DAY)
    anonymise_due_signers.enqueue()  # the immediate backend in tests runs it at once
    assert Signature.objects.filter(petition=other).exclude(email="").count() == 0


def test_placing_and_lifting_a_hold_in_the_admin_is_recorded(retention, client):
    moderator = make_staff("moderator")
    client.force_login(moderator)
    petition = closed_petition(retention + DAY)
    url = f"/admin/petitions/petition/{petition.pk}/change/"
    data = petition_admin_form(petition, status="open")
    data["closes_at_0"], data["closes_at_1"] = "", ""
    response = client.post(url, data | {"hold_reason": "Court order 12/3"})
    assert response.status_code == 302, response.content.decode()[:3000]
    petition.refresh_from_db()
    assert (petition.hold_reason, petition.hold_by) == ("Court order 12/3", moderator)
    assert petition.hold_at is not None
    html = client.get(url).content.decode()
    assert "Held by <bdi>moderator</bdi> since" in html
    assert client.post(url, data | {"hold_reason": ""}).status_code == 302
    petition.refresh_from_db()
    assert (petition.hold_reason, petition.hold_by, petition.hold_at) == ("", None, None)
    actions = list(
        AuditEntry.objects.filter(target_id=petition.pk)
        .order_by("pk")
        .values_list("action", "actor_label", "detail")
    )
    assert actions == [
        (AuditEntry.Action.RETENTION_HELD, "moderator", {"reason": "Court order 12/3"}),
        (AuditEntry.Action.RETENTION_RELEASED, "moderator", {"reason": ""}),
    ]


def test_the_hold_field_is_in_the_persian_admin_too(retention, client):
    client.force_login(make_staff("moderator"))
    petition = closed_petition(retention + DAY)
    petition.set_hold("شکایت", by="moderator")
    response = client.get(
        f"/admin/petitions/petition/{petition.pk}/change/", HTTP_ACCEPT_LANGUAGE="fa"
    )
    html = response.content.decode()
    assert "نگه داشتن اطلاعات امضاکنندگان: دلیل" in html
    assert "شکایت" in html


@pytest.mark.parametrize(
    ("days", "language", "words"),
    [
        (183, "en", "until 6 months after the petition closes"),
        (183, "fa", "تا ۶ ماه پس از بسته شدن کارزار"),
        (365, "en", "until 12 months after"),
        (365, "fa", "تا ۱۲ ماه پس از"),
        (30, "en", "until 30 days after"),
        (30, "fa", "تا ۳۰ روز پس از"),
    ],
)
def test_the_privacy_page_states_the_configured_period(client, settings, days, language, words):
    settings.SIGNATURE_RETENTION_DAYS = days
    html = client.get(f"/{language}/privacy/").content.decode()
    assert words in html
    hold = "audit log" if language == "en" else "دفتر بازرسی"
    assert hold in html
