"""The count-over-time chart on the petition page: an SVG drawn on the server, so it reads
without JavaScript."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import ngettext

from lib import cache
from lib.persian import format_date, format_number
from signatures import history
from signatures.history import Point

from .models import text_direction

WIDTH, HEIGHT = 600, 180
# The plot inside the frame: room on the left for the top value, below for the dates.
LEFT, RIGHT, TOP, BOTTOM = 56, 592, 12, 150
# More points than this are merged into longer steps, so the path stays small.
MAX_POINTS = history.MAX_STEPS
# Kept in the cache for a petition nobody has signed yet (None would read as nothing kept).
NO_CHART = ""


@dataclass(frozen=True)
class Chart:
    path: str  # the line, as an SVG path
    area: str  # the same line closed down to the axis, to shade under it
    top_label: str
    start_label: str
    end_label: str
    summary: str
    gridlines: tuple[float, ...]
    direction: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = RIGHT
    top: int = TOP
    bottom: int = BOTTOM


def build_chart(points: list[Point], language: str) -> Chart | None:
    """The chart of hours at hand, or None when nobody has signed yet."""
    return draw(history.overview_of(points), language)


def draw(overview: history.Overview | None, language: str) -> Chart | None:
    """The chart of an overview (at most history.MAX_STEPS steps), or None without one."""
    if overview is None:
        return None
    steps = overview.steps
    first, last = steps[0][0], steps[-1][0]
    span = max((last - first).total_seconds(), 1.0)
    top = max(overview.total, 1)

    def x(when):
        return LEFT + (RIGHT - LEFT) * (when - first).total_seconds() / span

    def y(value):
        return BOTTOM - (BOTTOM - TOP) * value / top

    coords = [f"{x(when):.1f},{y(value):.1f}" for when, value in steps]
    path = "M" + " L".join(coords)
    area = f"{path} L{RIGHT},{BOTTOM} L{LEFT},{BOTTOM} Z"
    start_label = format_date(overview.first_hour, language)
    end_label = format_date(overview.last_hour, language)
    total = overview.total
    # All on one day: the same date at both ends of the axis and "from X to X" say nothing.
    one_day = start_label == end_label
    if one_day:
        end_label = ""
        summary = ngettext(
            "%(total)s signature on %(day)s.", "%(total)s signatures on %(day)s.", total
        ) % {"total": format_number(total, language), "day": start_label}
    else:
        summary = ngettext(
            "%(total)s signature from %(start)s to %(end)s. The busiest hour, on %(busy_day)s, "
            "brought %(busy)s.",
            "%(total)s signatures from %(start)s to %(end)s. The busiest hour, on %(busy_day)s, "
            "brought %(busy)s.",
            total,
        ) % {
            "total": format_number(total, language),
            "start": start_label,
            "end": end_label,
            "busy_day": format_date(overview.busiest_hour, language),
            "busy": format_number(overview.busiest, language),
        }
    return Chart(
        path=path,
        area=area,
        top_label=format_number(total, language),
        start_label=start_label,
        end_label=end_label,
        summary=summary,
        gridlines=(round(y(top / 2), 1), round(y(top), 1)),
        direction=text_direction(language),
    )


def chart_for(petition, language: str) -> Chart | None:
    """The petition page's chart, or None before the first signature; drawn at most once every
    SHARE_IMAGE_SECONDS per petition and language."""
    key = cache.chart_key(petition.pk, language)
    kept = cache.get(key)
    if kept is None:
        kept = draw(history.overview(petition.pk), language) or NO_CHART
        cache.set(key, kept, settings.SHARE_IMAGE_SECONDS)
    return kept or None
