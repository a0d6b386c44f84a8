"""The count-over-time chart on the petition page: server-drawn SVG with a text
alternative, Persian digits and Solar Hijri dates on Persian pages, and a sentence instead when
nobody has signed yet."""

import datetime
import pickle
import time

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from lib import cache
from lib.http import PAGE_CACHE
from petitions import chart
from petitions.chart import MAX_POINTS, build_chart
from signatures import history
from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db

PERSIAN_DIGITS = set("۰۱۲۳۴۵۶۷۸۹")


def page(client, petition, language):
    with translation.override(language):
        url = petition.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def chart_svg(html: str) -> str:
    start = html.index('<svg class="momentum__chart"')
    return html[start : html.index("</svg>", start)]


@pytest.fixture
def signed_petition():
    petition = make_petition()
    start = datetime.datetime(2026, 3, 21, 9, 30, tzinfo=datetime.UTC)  # 1 Farvardin 1405
    for n in range(1234):
        make_signature(petition, created_at=start + datetime.timedelta(minutes=7 * n))
    return petition


def test_chart_renders_in_english_with_data(client, signed_petition):
    html = page(client, signed_petition, "en")
    svg = chart_svg(html)
    assert 'role="img"' in svg and 'aria-labelledby="momentum-heading momentum-summary"' in svg
    assert '<path d="M' in svg
    assert ">1,234<" in svg
    assert ">21 March 2026<" in svg
    assert "1,234 signatures from 21 March 2026 to 27 March 2026" in html
    assert 'id="momentum-summary"' in html


def test_chart_renders_in_persian_with_persian_digits_and_solar_hijri_dates(
    client, signed_petition
):
    html = page(client, signed_petition, "fa")
    svg = chart_svg(html)
    assert ">۱٬۲۳۴<" in svg
    assert ">۱ فروردین ۱۴۰۵<" in svg
    assert 'direction="rtl"' in svg
    summary = html[html.index('id="momentum-summary"') :].split("</p>", 1)[0]
    assert "۱٬۲۳۴" in summary and "فروردین" in summary
    assert not any(ch in "0123456789" for ch in summary.split(">", 1)[1])


@pytest.mark.parametrize("language", ["en", "fa"])
def test_chart_without_signatures_says_so_in_words(client, language):
    petition = make_petition()
    html = page(client, petition, language)
    assert '<svg class="momentum__chart"' not in html
    assert 'class="momentum__empty"' in html
    assert 'id="momentum-heading"' in html


def test_chart_merges_long_series_into_at_most_max_points():
    start = timezone.now() - datetime.timedelta(hours=2000)
    points, total = [], 0
    for n in range(2000):
        total += n % 7
        points.append(history.Point(start + datetime.timedelta(hours=n), n % 7, total))
    chart = build_chart(points, "en")
    assert chart.path.count("L") < MAX_POINTS + 2
    # The line ends at the full total, at the top right of the plot.
    assert chart.path.endswith(f"{chart.right:.1f},{chart.top:.1f}")


@pytest.mark.parametrize(
    "language, day, sentence",
    [
        ("en", "6 December 2026", "2 signatures on 6 December 2026."),
        ("fa", "۱۵ آذر ۱۴۰۵", "۲ امضا در ۱۵ آذر ۱۴۰۵."),
    ],
)
def test_signatures_all_in_one_hour_name_their_day_once(language, day, sentence):
    hour = datetime.datetime(2026, 12, 6, 10, tzinfo=datetime.UTC)
    with translation.override(language):
        chart = build_chart([history.Point(hour, 2, 2)], language)
    assert chart.start_label == day
    assert chart.end_label == ""
    assert chart.summary == sentence


FOUR_YEARS = datetime.timedelta(days=4 * 365 + 1)


@pytest.fixture
def four_year_petition():
    """3,000 signatures, each in an hour of its own, spread over four years."""
    petition = make_petition()
    start = timezone.now() - FOUR_YEARS
    step = FOUR_YEARS / 3000
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            name=f"Signer {n}",
            email=f"old{n}@example.com",
            email_canonical=f"old{n}@example.com",
            country="GB",
            created_at=start + n * step,
        )
        for n in range(3000)
    )
    SignatureCount.add(petition.pk, 3000)
    return petition


def test_the_chart_of_a_four_year_petition_has_at_most_max_points_and_ends_at_the_count(
    client, four_year_petition
):
    html = page(client, four_year_petition, "en")
    svg = chart_svg(html)
    path = svg.split('stroke="none"/>', 1)[1].split('d="', 1)[1].split('"', 1)[0]
    assert path.count("L") <= MAX_POINTS
    assert ">3,000<" in svg
    assert "3,000 signatures from" in html


def test_a_page_view_of_a_four_year_petition_reads_only_small_things_from_the_cache(
    client, monkeypatch, four_year_petition
):
    page(client, four_year_petition, "en")
    read = []
    real_get = cache.get

    def measured_get(key, *args, **kwargs):
        value = real_get(key, *args, **kwargs)
        read.append((key, len(pickle.dumps(value))))
        return value

    monkeypatch.setattr(cache, "get", measured_get)
    html = page(client, four_year_petition, "en")
    assert read
    # The page itself, kept whole for its max-age, and nothing else of any size.
    small = [size for key, size in read if not key.startswith("kept-page:")]
    assert max(small, default=0) < 16_000, read
    assert all(size < 1.1 * len(html.encode()) for _, size in read), read


def test_the_chart_is_made_once_and_kept_not_made_again_for_each_page_view(
    client, monkeypatch, signed_petition
):
    page(client, signed_petition, "en")
    made = []

    def counting(real):
        def made_chart(*args, **kwargs):
            made.append(args)
            return real(*args, **kwargs)

        return made_chart

    for name in ("build_chart", "draw"):
        if hasattr(chart, name):
            monkeypatch.setattr(chart, name, counting(getattr(chart, name)))
    for _ in range(3):
        assert ">1,234<" in chart_svg(page(client, signed_petition, "en"))
    assert made == []


def test_rebuilding_the_hourly_counts_draws_the_chart_again(client, monkeypatch, signed_petition):
    assert ">1,234<" in chart_svg(page(client, signed_petition, "en"))
    Signature.objects.filter(
        pk__in=Signature.objects.filter(petition=signed_petition).values("pk")[:34]
    ).invalidate(by="test")
    call_command("rebuild_hourly_counts", signed_petition.slug)
    # Once the page any cache may keep has aged out (lib.http.PAGE_CACHE).
    later = time.time() + PAGE_CACHE["max_age"]
    monkeypatch.setattr(time, "time", lambda: later)
    assert ">1,200<" in chart_svg(page(client, signed_petition, "en"))
