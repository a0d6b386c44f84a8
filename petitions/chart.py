"""The count-over-time chart on the petition page: a small SVG drawn on the server, so it reads
without JavaScript, with its numbers and dates in the page's language and a sentence that says
what it shows (issue 22)."""

import datetime
from dataclasses import dataclass

from django.utils.translation import ngettext

from signatures import history
from signatures.history import Point

from .models import text_direction
from .persian import format_date, format_number

WIDTH, HEIGHT = 600, 180
# The plot inside the frame: room on the left for the top value, below for the dates.
LEFT, RIGHT, TOP, BOTTOM = 56, 592, 12, 150
# More points than this are merged into longer steps, so the path stays small.
MAX_POINTS = 240


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


def cumulative(points: list[Point]) -> list[tuple[datetime.datetime, int]]:
    """(time, total so far), starting from nothing an hour before the first signature."""
    if not points:
        return []
    start = points[0].hour
    steps = [(start, 0)] + [(p.hour + datetime.timedelta(hours=1), p.total) for p in points]
    if len(steps) > MAX_POINTS:
        stride = -(-len(steps) // MAX_POINTS)
        steps = steps[::stride] + ([steps[-1]] if (len(steps) - 1) % stride else [])
    return steps


def build_chart(points: list[Point], language: str) -> Chart | None:
    """The chart for a series, or None when nobody has signed yet."""
    steps = cumulative(points)
    if not steps:
        return None
    first, last = steps[0][0], steps[-1][0]
    span = max((last - first).total_seconds(), 1.0)
    top = max(steps[-1][1], 1)

    def x(when):
        return LEFT + (RIGHT - LEFT) * (when - first).total_seconds() / span

    def y(value):
        return BOTTOM - (BOTTOM - TOP) * value / top

    coords = [f"{x(when):.1f},{y(value):.1f}" for when, value in steps]
    path = "M" + " L".join(coords)
    area = f"{path} L{RIGHT},{BOTTOM} L{LEFT},{BOTTOM} Z"
    busiest = max(points, key=lambda p: p.signatures)
    start_label = format_date(points[0].hour, language)
    end_label = format_date(points[-1].hour, language)
    total = points[-1].total
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
            "busy_day": format_date(busiest.hour, language),
            "busy": format_number(busiest.signatures, language),
        }
    return Chart(
        path=path,
        area=area,
        top_label=format_number(points[-1].total, language),
        start_label=start_label,
        end_label=end_label,
        summary=summary,
        gridlines=(round(y(top / 2), 1), round(y(top), 1)),
        direction=text_direction(language),
    )


def chart_for(petition, language: str) -> Chart | None:
    """The petition page's chart, or None before the first signature."""
    return build_chart(history.series(petition.pk), language)
