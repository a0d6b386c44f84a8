"""Reaching a threshold is found off the signing path (the periodic `tend_petitions` and the
admin's save), recorded once with the consequence as it read then and dated, and audited."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from lib.models import AuditEntry
from petitions import thresholds
from petitions.models import Petition, Threshold, ThresholdReached
from tests.factories import make_petition, make_signature, make_staff, petition_admin_form

pytestmark = pytest.mark.django_db


def site(number, owes_response=True, deadline_days=None):
    return Threshold.objects.create(
        number=number,
        consequence_en=f"a response at {number}",
        consequence_fa=f"پاسخ در {number}",
        owes_response=owes_response,
        deadline_days=deadline_days,
    )


def signed(petition, times):
    for _ in range(times):
        make_signature(petition)
    return petition


def test_a_threshold_passed_is_recorded_with_its_consequence_and_count():
    site(2, deadline_days=30)
    site(5)
    petition = signed(make_petition(), 3)
    before = timezone.now()
    (row,) = thresholds.record_reached()
    assert (row.petition, row.number, row.count) == (petition, 2, 3)
    assert (row.consequence_en, row.consequence_fa) == ("a response at 2", "پاسخ در 2")
    assert before <= row.reached_at <= timezone.now()
    assert row.respond_by == row.reached_at + datetime.timedelta(days=30)


def test_running_the_detector_twice_records_each_threshold_once():
    site(2)
    site(3)
    signed(make_petition(), 3)
    assert len(thresholds.record_reached()) == 2
    assert thresholds.record_reached() == []
    assert ThresholdReached.objects.count() == 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.THRESHOLD_REACHED).count() == 2


def test_each_threshold_reached_is_audited_by_the_system():
    site(1)
    petition = signed(make_petition(), 1)
    thresholds.record_reached()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.THRESHOLD_REACHED)
    assert (entry.target, entry.actor_label) == (petition, "system")
    assert entry.detail["threshold"] == 1 and entry.detail["count"] == 1


def test_a_threshold_not_yet_reached_is_not_recorded():
    site(5)
    signed(make_petition(), 4)
    assert thresholds.record_reached() == []


def test_the_consequence_is_kept_as_it_read_when_reached():
    threshold = site(1)
    petition = signed(make_petition(), 1)
    thresholds.record_reached()
    threshold.consequence_en = "something else"
    threshold.save()
    (marker,) = thresholds.markers(petition, 1000, "en")
    assert marker.consequence.value == "a response at 1"
    assert marker.reached_at is not None


def test_a_threshold_reached_then_removed_from_the_list_still_shows():
    threshold = site(1)
    petition = signed(make_petition(), 1)
    thresholds.record_reached()
    threshold.delete()
    assert [m.number for m in thresholds.markers(petition, 1000, "en")] == [1]


def test_a_petitions_own_threshold_is_recorded_and_the_sites_is_not():
    site(1)
    petition = signed(make_petition(own_thresholds=True), 2)
    Threshold.objects.create(petition=petition, number=2, consequence_en="a meeting")
    assert [row.number for row in thresholds.record_reached()] == [2]


def test_a_closed_petition_reaches_nothing():
    site(1)
    signed(make_petition(status=Petition.Status.CLOSED), 1)
    assert thresholds.record_reached() == []


def test_the_periodic_command_records_what_was_reached(capsys):
    site(1)
    petition = signed(make_petition(), 1)
    call_command("tend_petitions")
    assert ThresholdReached.objects.filter(petition=petition, number=1).exists()
    assert f"{petition.slug}: reached 1" in capsys.readouterr().out


def test_saving_a_petition_in_the_admin_records_a_threshold_it_has_passed(client):
    user = make_staff()
    client.force_login(user)
    site(1)
    petition = signed(make_petition(), 1)
    response = client.post(
        f"/admin/petitions/petition/{petition.pk}/change/",
        petition_admin_form(petition, status="open"),
        follow=True,
    )
    assert response.status_code == 200
    row = ThresholdReached.objects.get(petition=petition)
    assert row.number == 1
    entry = AuditEntry.objects.get(action=AuditEntry.Action.THRESHOLD_REACHED)
    assert entry.actor == user
