"""Closing: a moderator closes a petition with a reason the page shows and a note for the audit
log; a petition past its closing date stops taking signatures at once and is closed for the
record by the periodic pass; a closed petition keeps its page, without the sign form."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from lib.models import AuditEntry
from petitions import thresholds
from petitions.models import Petition, Threshold
from tests.factories import make_petition, make_staff, make_staff_in, petition_admin_form

pytestmark = pytest.mark.django_db


def test_a_moderator_closes_a_petition_with_a_reason_and_a_note(client):
    moderator = make_staff_in("Moderators", "mo")
    client.force_login(moderator)
    petition = make_petition()
    url = f"/admin/petitions/petition/{petition.pk}/close/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "duplicate", "note": "Same as the other one."})
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Petition.Status.CLOSED
    assert (petition.closed_reason, petition.closed_note) == ("duplicate", "Same as the other one.")
    assert petition.closed_at is not None
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PETITION_CLOSED)
    assert (entry.target, entry.actor) == (petition, moderator)
    assert entry.detail == {"closed_because": "duplicate", "note": "Same as the other one."}


def test_another_reason_needs_a_note(client):
    client.force_login(make_staff_in("Moderators", "mo"))
    petition = make_petition()
    response = client.post(f"/admin/petitions/petition/{petition.pk}/close/", {"reason": "other"})
    assert response.status_code == 200
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN


def test_an_organiser_cannot_use_the_moderators_close(client):
    client.force_login(make_staff_in("Organisers", "olga"))
    petition = make_petition()
    response = client.post(
        f"/admin/petitions/petition/{petition.pk}/close/", {"reason": "duplicate"}
    )
    assert response.status_code == 403


def test_the_change_page_offers_the_close_button_in_both_languages(client):
    client.force_login(make_staff())
    petition = make_petition()
    html = client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert f'href="/admin/petitions/petition/{petition.pk}/close/"' in html
    assert "Close this petition" in html
    client.cookies["django_language"] = "fa"
    html = client.get(f"/fa/admin/petitions/petition/{petition.pk}/change/", follow=True)
    assert "بستن این کارزار" in html.content.decode()


def test_a_petition_past_its_closing_date_takes_no_signature_before_the_pass():
    petition = make_petition()
    Petition.objects.filter(pk=petition.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert not Petition.objects.signable().filter(pk=petition.pk).exists()
    assert list(Petition.objects.closed()) == [petition]


def test_the_periodic_pass_closes_it_for_the_record_on_its_date(capsys):
    closes_at = timezone.now() - datetime.timedelta(minutes=3)
    petition = make_petition()
    Petition.objects.filter(pk=petition.pk).update(closes_at=closes_at)
    call_command("tend_petitions")
    petition.refresh_from_db()
    assert petition.status == Petition.Status.CLOSED
    assert (petition.closed_reason, petition.closed_at) == ("date", closes_at)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PETITION_CLOSED)
    assert (entry.target, entry.actor_label, entry.detail["closed_because"]) == (
        petition,
        "system",
        "date",
    )
    assert f"{petition.slug}: closed on its closing date" in capsys.readouterr().out
    assert thresholds.close_due() == []


def test_a_petition_not_yet_at_its_date_stays_open():
    petition = make_petition(closes_at=timezone.now() + datetime.timedelta(days=1))
    assert thresholds.close_due() == []
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN


def test_a_closed_petition_keeps_its_page_with_the_reason_and_no_sign_form(client):
    petition = make_petition()
    petition.close(by="mo", reason=Petition.ClosedReason.ORGANISER, note="internal words")
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "This petition is closed and no longer takes signatures." in html
    assert "Its organiser asked for it to close" in html
    assert "internal words" not in html
    assert 'name="email"' not in html
    fa = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert "این کارزار بسته شده" in fa


def test_closing_by_editing_the_status_in_the_admin_is_audited(client):
    user = make_staff()
    client.force_login(user)
    petition = make_petition()
    client.post(
        f"/admin/petitions/petition/{petition.pk}/change/",
        petition_admin_form(petition, status="closed"),
    )
    petition.refresh_from_db()
    assert petition.status == Petition.Status.CLOSED and petition.closed_at is not None
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PETITION_CLOSED)
    assert (entry.actor, entry.detail["closed_because"]) == (user, "other")
    assert entry.detail["status_edited"] is True


def test_opening_it_again_clears_the_closing():
    petition = make_petition()
    petition.close(by="mo", reason=Petition.ClosedReason.DONE, note="n")
    petition.status = Petition.Status.OPEN
    petition.save()
    petition.refresh_from_db()
    assert (petition.closed_at, petition.closed_reason, petition.closed_note) == (None, "", "")


def test_the_persian_audit_log_reads_a_closing_and_a_threshold_in_persian(client):
    client.force_login(make_staff())
    petition = make_petition()
    petition.close(by="mo", reason=Petition.ClosedReason.DUPLICATE, note="همان کارزار دیگر")
    threshold = Threshold.objects.create(number=1, consequence_en="a response")
    thresholds.reach(petition, threshold, 1500, by="system")
    client.cookies["django_language"] = "fa"
    html = client.get("/admin/lib/auditentry/").content.decode()
    assert "کارزار دیگری همین را می‌خواهد" in html  # the reason's label, not its code
    assert "در ۱ امضا" in html and "شمار ۱٬۵۰۰" in html
    assert '<span lang="en" dir="ltr">a response</span>' in html
    assert "duplicate" not in html and "threshold:" not in html
