"""Thresholds in a real browser: the ticks stay on the bar's scale when the goal climbs live, the
pages that show them pass axe in both languages, and nothing spills sideways on a phone."""

import pytest
from playwright.sync_api import expect

from petitions import thresholds
from petitions.models import Threshold
from signatures.models import SignatureCount
from tests.browser.test_accessibility_browser import (
    _next_poll,
    _sign_elsewhere,
    assert_no_serious_violations,
)
from tests.factories import make_petition

LONG = "a written response from the ministry, published in full on its own website " * 2
HOSTILE = 'Stop "the" <script>alert(1)</script> ban 🚫 on ي ك ' + "x" * 40


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0


@pytest.fixture
def with_thresholds(transactional_db):
    Threshold.objects.create(
        number=500, consequence_en=LONG, consequence_fa="پاسخ کتبی وزارت " * 6, owes_response=True
    )
    Threshold.objects.create(number=100_000, consequence_en="a debate in parliament")
    petition = make_petition(title_en=HOSTILE, title_fa=HOSTILE, goal=1000, starter_name="A" * 100)
    SignatureCount.set_total(petition.pk, 640)
    thresholds.record_reached()
    return petition


def test_the_ticks_follow_the_goal_when_it_climbs_live(page, live_server, transactional_db):
    Threshold.objects.create(number=2, consequence_en="a response")
    petition = make_petition(goal=2)
    SignatureCount.set_total(petition.pk, 1)
    page.clock.install()
    page.goto(f"{live_server.url}/en/p/{petition.slug}/")
    marks = page.locator(".petition__sign [data-threshold-marks]")
    expect(marks).to_have_attribute("viewBox", "0 0 2 10")
    _sign_elsewhere(petition)  # 2 reaches the goal: the ladder's next rung is 100
    _next_poll(page)
    expect(page.locator(".petition__sign meter")).to_have_attribute("max", "100")
    expect(marks).to_have_attribute("viewBox", "0 0 100 10")


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize(
    "path", ["p/{slug}/", "p/{slug}/embed/", "awaiting-response/", "petitions/"]
)
def test_pages_with_thresholds_pass_axe_and_fit_a_phone(
    page, live_server, with_thresholds, axe_source, language, path
):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/{language}/{path.format(slug=with_thresholds.slug)}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_no_serious_violations(page, axe_source, f"{path} ({language})")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for item in page.locator(".thresholds__item").all():
        box = item.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
