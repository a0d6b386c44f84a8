"""The count over time: each petition's signatures per hour (UTC), for the chart on its page and
the press's JSON feed (issue 22).

The hours are kept in HourlyCount and derived only from the signature rows, so `rebuild` can
always make them again. Signing writes nothing here: a reader whose cached series has expired
(at most every SERIES_SECONDS per petition) recounts the last REFRESH_HOURS hours, a range scan
of the signature_recent index (petition, status, created_at), and the older hours stay as stored.
A moderation decision about older signatures shows after `manage.py rebuild_hourly_counts`.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from . import caching
from .models import HourlyCount, Signature

REFRESH_HOURS = 24


def series_cache_key(petition_id: int) -> str:
    return f"petition-series:v1:{petition_id}"


@dataclass(frozen=True)
class Point:
    hour: datetime.datetime
    signatures: int  # signed in this hour
    total: int  # signed up to the end of this hour


def counted_by_hour(petition_id: int, since: datetime.datetime | None = None) -> dict:
    """{hour: signatures} from the rows, for the hours from `since` (all when None)."""
    rows = Signature.objects.counted().filter(petition_id=petition_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    grouped = (
        rows.annotate(hour=TruncHour("created_at", tzinfo=datetime.UTC))
        .values_list("hour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(grouped)


def _store(petition_id: int, hours: dict, since: datetime.datetime | None) -> None:
    """Make the stored hours from `since` (all when None) exactly `hours`."""
    with transaction.atomic():
        stale = HourlyCount.objects.filter(petition_id=petition_id)
        if since is not None:
            stale = stale.filter(hour__gte=since)
        stale.exclude(hour__in=list(hours)).delete()
        # In order of hour, so two readers refreshing at once lock the rows in the same order.
        HourlyCount.objects.bulk_create(
            [
                HourlyCount(petition_id=petition_id, hour=h, signatures=n)
                for h, n in sorted(hours.items())
            ],
            update_conflicts=True,
            unique_fields=["petition", "hour"],
            update_fields=["signatures"],
        )


def rebuild(petition_id: int) -> int:
    """Every hour again from the rows; returns how many hours have signatures."""
    hours = counted_by_hour(petition_id)
    _store(petition_id, hours, None)
    caching.delete_many([series_cache_key(petition_id)])
    return len(hours)


def refresh(petition_id: int, now: datetime.datetime | None = None) -> None:
    """Recount the recent hours; the first time, every hour."""
    if not HourlyCount.objects.filter(petition_id=petition_id).exists():
        _store(petition_id, counted_by_hour(petition_id), None)
        return
    now = now or timezone.now()
    since = now.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    since -= datetime.timedelta(hours=REFRESH_HOURS)
    _store(petition_id, counted_by_hour(petition_id, since), since)


def stored_series(petition_id: int) -> list[Point]:
    points, total = [], 0
    rows = HourlyCount.objects.filter(petition_id=petition_id).order_by("hour")
    for hour, signatures in rows.values_list("hour", "signatures"):
        total += signatures
        points.append(Point(hour, signatures, total))
    return points


def series(petition_id: int) -> list[Point]:
    """The petition's hours with signatures, oldest first, at most SERIES_SECONDS old."""
    key = series_cache_key(petition_id)
    points = caching.get(key)
    if points is None:
        refresh(petition_id)
        points = stored_series(petition_id)
        caching.set(key, points, settings.SHARE_IMAGE_SECONDS)
    return points
