"""The count over time: each petition's signatures per hour (UTC), for the chart on its page and
the press's JSON feed (issue 22).

The hours are kept in HourlyCount and derived only from the signature rows, so `rebuild` can
always make them again. Signing writes nothing here: a reader whose cached series has expired
(at most every SERIES_SECONDS per petition) recounts the last REFRESH_HOURS hours, a range scan
of the signature_recent index (petition, status, created_at), and the older hours stay as stored.
A moderation decision about older signatures shows after `manage.py rebuild_hourly_counts`.

The page's chart reads an `overview`: the series in at most MAX_STEPS steps (hours for a young
petition, then whole days), so drawing it costs the same for a petition open a day or four years.
"""

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
# The most steps an overview has, whatever the petition's age: a four-year petition's in weeks.
MAX_STEPS = 240
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


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
    # The page's chart of this series (petitions/chart.py) goes with it.
    charts = [cache.chart_key(petition_id, code) for code, _ in settings.LANGUAGES]
    cache.delete_many([cache.series_key(petition_id), *charts])
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
    key = cache.series_key(petition_id)
    points = cache.get(key)
    if points is None:
        refresh(petition_id)
        points = stored_series(petition_id)
        cache.set(key, points, settings.SHARE_IMAGE_SECONDS)
    return points


@dataclass(frozen=True)
class Overview:
    """The whole series for drawing, in at most MAX_STEPS steps."""

    steps: tuple[tuple[datetime.datetime, int], ...]  # (time, total so far), from (start, 0)
    first_hour: datetime.datetime
    last_hour: datetime.datetime
    # The hour that brought the most signatures (the first of equals), and how many.
    busiest_hour: datetime.datetime
    busiest: int

    @property
    def total(self) -> int:
        return self.steps[-1][1]


def in_steps(counts: list[tuple[datetime.datetime, int]], unit: datetime.timedelta) -> tuple:
    """(time, total so far) at the end of each stretch of whole `unit`s with signatures, the
    stretches as short as keeps them within MAX_STEPS, from (the first unit, 0). `counts` are
    (start of a unit, signatures), oldest first."""
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
    """The overview of hours already at hand."""
    if not points:
        return None
    busiest = max(points, key=lambda p: p.signatures)
    steps = in_steps([(p.hour, p.signatures) for p in points], HOUR)
    return Overview(steps, points[0].hour, points[-1].hour, busiest.hour, busiest.signatures)


def overview(petition_id: int) -> Overview | None:
    """The series, recounted as `series` does, read as at most MAX_STEPS hours or else one row a
    day: a few small queries, never the whole series."""
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
