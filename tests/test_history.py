"""The count over time: kept per hour from the signature rows, rebuilt from them, and
served as JSON for the press."""

import datetime
import itertools
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from signatures import history
from signatures.models import HourlyCount, Signature
from tests.factories import make_petition, make_signature, sign_form_data

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def hour_of(when: datetime.datetime) -> datetime.datetime:
    return when.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)


def recount_by_hour(petition) -> dict:
    """The series worked out in Python from the rows themselves."""
    rows = (
        Signature.objects.counted().filter(petition=petition).values_list("created_at", flat=True)
    )
    return dict(Counter(hour_of(created) for created in rows))


def signed_at(petition, *moments, **fields):
    return [make_signature(petition, created_at=moment, **fields) for moment in moments]


def test_hourly_series_equals_a_recount_from_the_rows():
    petition = make_petition()
    now = timezone.now()
    signed_at(
        petition, now - 50 * HOUR, now - 50 * HOUR, now - 49 * HOUR - datetime.timedelta(minutes=5)
    )
    signed_at(petition, *(now - n * datetime.timedelta(minutes=17) for n in range(40)))
    make_signature(petition, created_at=now - 3 * HOUR, status=Signature.Status.PENDING)
    make_signature(petition, created_at=now - 2 * HOUR, status=Signature.Status.INVALIDATED)

    points = history.series(petition.pk)

    assert {p.hour: p.signatures for p in points} == recount_by_hour(petition)
    assert points[-1].total == Signature.objects.counted().filter(petition=petition).count() == 43
    assert [p.hour for p in points] == sorted(p.hour for p in points)
    assert all(b.total == a.total + b.signatures for a, b in itertools.pairwise(points))


def test_refresh_recounts_recent_hours_and_drops_invalidated_signatures():
    petition = make_petition()
    now = timezone.now()
    early = signed_at(petition, now - 30 * HOUR, now - 2 * HOUR, now - 2 * HOUR)
    history.refresh(petition.pk)
    signed_at(petition, now - datetime.timedelta(minutes=1))
    Signature.objects.filter(pk=early[1].pk).invalidate(by="test")

    history.refresh(petition.pk)

    stored = dict(HourlyCount.objects.filter(petition=petition).values_list("hour", "signatures"))
    assert stored == recount_by_hour(petition)


def test_rebuild_command_remakes_every_hour_from_the_rows(capsys):
    petition = make_petition()
    now = timezone.now()
    signed_at(petition, now - 80 * HOUR, now - 79 * HOUR, now)
    history.refresh(petition.pk)
    old = Signature.objects.filter(petition=petition).order_by("created_at").first()
    # Older than the refresh window: only a rebuild sees this change.
    Signature.objects.filter(pk=old.pk).invalidate(by="test")
    HourlyCount.objects.filter(petition=petition).update(signatures=99)

    call_command("rebuild_hourly_counts", petition.slug)

    stored = dict(HourlyCount.objects.filter(petition=petition).values_list("hour", "signatures"))
    assert stored == recount_by_hour(petition)
    assert f"{petition.slug}: 2 hours, 2 signatures" in capsys.readouterr().out


def test_signing_writes_no_hourly_count(client):
    petition = make_petition()
    response = client.post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}), sign_form_data(petition)
    )
    assert response.status_code == 302
    assert Signature.objects.filter(petition=petition).count() == 1
    assert not HourlyCount.objects.filter(petition=petition).exists()


def test_series_is_cached_between_refreshes(django_assert_num_queries):
    petition = make_petition()
    signed_at(petition, timezone.now())
    history.series(petition.pk)
    with django_assert_num_queries(0):
        assert history.series(petition.pk)[-1].total == 1


def test_json_feed_gives_the_press_the_hours_and_totals(client):
    petition = make_petition()
    now = timezone.now()
    signed_at(petition, now - 5 * HOUR, now - 5 * HOUR, now)
    response = client.get(reverse("petitions:history", kwargs={"slug": petition.slug}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert "Set-Cookie" not in response
    body = response.json()
    assert body["count"] == 3 and body["interval"] == "hour"
    assert [row["signatures"] for row in body["series"]] == [2, 1]
    assert [row["total"] for row in body["series"]] == [2, 3]
    assert body["series"][0]["hour"] == hour_of(now - 5 * HOUR).strftime("%Y-%m-%dT%H:00:00Z")


def test_json_feed_of_a_draft_is_not_found(client):
    petition = make_petition(status="draft")
    response = client.get(reverse("petitions:history", kwargs={"slug": petition.slug}))
    assert response.status_code == 404
