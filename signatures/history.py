"""Signatures per hour, for the chart and the JSON feed. Signing writes nothing here: a reader whose
cached series expired recounts the last REFRESH_HOURS, so a moderation decision about older
signatures shows after `manage.py rebuild_hourly_counts`."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from lib import cache

from .models import HourlyCount, Signature

REFRESH_HOURS = 24
# So that drawing costs the same for a petition open a day or four years.
MAX_STEPS = 240
DELETE_CHUNK = 10_000
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Point:
    hour: datetime.datetime
    signatures: int  # signed in this hour
    total: int  # signed up to the end of this hour


def counted_by_hour(petition_id: int, since: datetime.datetime | None = None) -> dict:
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
    with transaction.atomic():
        stale = HourlyCount.objects.filter(petition_id=petition_id)
        if since is not None:
            stale = stale.filter(hour__gte=since)
        # The hours to drop by name, in pieces: naming the ones kept would take a parameter an
        # hour, more than a statement carries for a petition open seven and a half years.
        gone = sorted(set(stale.values_list("hour", flat=True)) - hours.keys())
        for start in range(0, len(gone), DELETE_CHUNK):
            stale.filter(hour__in=gone[start : start + DELETE_CHUNK]).delete()
        # Sorted, so that two readers refreshing at once lock the rows in the same order.
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
    """Returns how many hours have signatures."""
    hours = counted_by_hour(petition_id)
    _store(petition_id, hours, None)
    charts = [cache.chart_key(petition_id, code) for code, _ in settings.LANGUAGES]
    cache.delete_many([cache.series_key(petition_id), *charts])
    return len(hours)


def refresh(petition_id: int, now: datetime.datetime | None = None) -> None:
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
    key = cache.series_key(petition_id)
    points = cache.get(key)
    if points is None:
        refresh(petition_id)
        points = stored_series(petition_id)
        cache.set(key, points, settings.SHARE_IMAGE_SECONDS)
    return points


def by_day(points: list[Point]) -> list[Point]:
    """The hours added up by day (UTC), each Point's `hour` the start of its day."""
    days: list[Point] = []
    for point in points:
        day = point.hour.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0)
        if days and days[-1].hour == day:
            days[-1] = Point(day, days[-1].signatures + point.signatures, point.total)
        else:
            days.append(Point(day, point.signatures, point.total))
    return days


@dataclass(frozen=True)
class Overview:
    steps: tuple[tuple[datetime.datetime, int], ...]  # (time, total so far), from (start, 0)
    first_hour: datetime.datetime
    last_hour: datetime.datetime
    busiest_hour: datetime.datetime
    busiest: int

    @property
    def total(self) -> int:
        return self.steps[-1][1]


def in_steps(counts: list[tuple[datetime.datetime, int]], unit: datetime.timedelta) -> tuple:
    """(end of stretch, total so far) for the shortest stretches of whole `unit`s that fit in
    MAX_STEPS; `counts` are (start of a unit, signatures), oldest first."""
    start = counts[0][0]
    units = (counts[-1][0] - start) // unit + 1
    width = unit * -(-units // MAX_STEPS)
    steps, total = [(start, 0)], 0
    for when, signatures in counts:
        total += signatures
        end = start + ((when - start) // width + 1) * width
        if steps[-1][0] == end:
            steps[-1] = (end, total)
        else:
            steps.append((end, total))
    return tuple(steps)


def overview_of(points: list[Point]) -> Overview | None:
    if not points:
        return None
    busiest = max(points, key=lambda p: p.signatures)
    steps = in_steps([(p.hour, p.signatures) for p in points], HOUR)
    return Overview(steps, points[0].hour, points[-1].hour, busiest.hour, busiest.signatures)


def overview(petition_id: int) -> Overview | None:
    """A few small queries, never the whole series."""
    refresh(petition_id)
    hours = HourlyCount.objects.filter(petition_id=petition_id)
    span = hours.aggregate(first=Min("hour"), last=Max("hour"))
    if span["first"] is None:
        return None
    busiest = hours.order_by("-signatures", "hour").values_list("hour", "signatures")[0]
    if span["last"] - span["first"] < MAX_STEPS * HOUR:
        counts, unit = list(hours.order_by("hour").values_list("hour", "signatures")), HOUR
    else:
        days = hours.annotate(day=TruncDay("hour", tzinfo=datetime.UTC)).values_list("day")
        counts, unit = list(days.annotate(n=Sum("signatures")).order_by("day")), DAY
    return Overview(in_steps(counts, unit), span["first"], span["last"], *busiest)
