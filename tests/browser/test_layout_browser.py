"""Layout from a 320 px phone to a desktop, in both directions, and the letter at 200% zoom.

200% zoom of a 1280 px window is emulated the way the browser itself does it: the page gets half
the CSS pixels (a 640 px wide viewport), so every length in rem doubles relative to the window.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sticking_out

LANGUAGES = ["en", "fa"]
# A letter line longer than this is hard to track back to the next line's start.
MAX_CHARACTERS_PER_LINE = 90
MIN_SCREENSHOT_BYTES = 20_000


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0


@pytest.fixture
def demo_petition(transactional_db):
    from petitions.demo.loader import load_demo

    return load_demo(signatures=40)


def _settled(page):
    page.evaluate("document.fonts.ready.then(() => true)")


def _overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_horizontal_scroll_at_320_px(page, live_server, demo_petition, language):
    page.set_viewport_size({"width": 320, "height": 640})
    base = f"{live_server.url}/{language}"
    slug = demo_petition.slug
    for path in (
        "/",
        f"/p/{slug}/",
        f"/p/{slug}/thanks/",
        f"/p/{slug}/thanks/?check=email",
        "/privacy/",
    ):
        page.goto(base + path)
        _settled(page)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "fa" else "ltr")
        overflow = _overflow(page)
        wide = sticking_out(page)
        assert overflow <= 0, f"{base + path} is {overflow}px wider than 320px: {wide}"

    # The form with its errors shown, too.
    page.goto(f"{base}/p/{slug}/")
    page.locator("#id_email").fill("not-an-email")
    page.locator("form[data-sign-form] button[type=submit]").click()
    expect(page.locator("#form-errors")).to_be_visible()
    page.locator("details.optional-fields summary").click()
    _settled(page)
    assert _overflow(page) <= 0, sticking_out(page)


def _letter_measure(page, selector: str) -> dict:
    return page.locator(selector).evaluate(
        """section => {
            const body = section.querySelector('.letter__body');
            const paragraphs = [...body.querySelectorAll('p')]
                .filter(p => p.textContent.trim().length > 200);
            const p = paragraphs[0];
            const style = getComputedStyle(p);
            const lineHeight = parseFloat(style.lineHeight);
            const lines = Math.round(p.getBoundingClientRect().height / lineHeight);
            const box = body.getBoundingClientRect();
            return {
                left: box.left, right: box.right, width: box.width,
                fontSize: parseFloat(style.fontSize),
                lines, perLine: p.textContent.trim().length / lines,
            };
        }"""
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_letter_reads_well_at_desktop_and_at_200_percent_zoom(
    page, live_server, demo_petition, language
):
    url = f"{live_server.url}/{language}/p/{demo_petition.slug}/"
    for width, height, zoom in ((1280, 900, 1), (640, 450, 2)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        _settled(page)
        assert _overflow(page) <= 0, f"{width}px: {sticking_out(page)}"
        for selector in (".petition__letter:not(.letter--other)", ".letter--other"):
            measure = _letter_measure(page, selector)
            where = f"{language} {selector} at {zoom * 100}% ({width}px): {measure}"
            assert measure["left"] >= 0 and measure["right"] <= width, where
            assert measure["perLine"] <= MAX_CHARACTERS_PER_LINE, where
            # Not squeezed into a narrow column either.
            assert measure["perLine"] >= 25, where
            assert measure["fontSize"] >= 16, where


@pytest.mark.parametrize("width", [360, 1280])
def test_screenshots_of_the_petition_page(page, live_server, demo_petition, screenshot_dir, width):
    page.set_viewport_size({"width": width, "height": 900})
    for language in LANGUAGES:
        target = screenshot_dir / f"petition-{language}-{width}.png"
        target.unlink(missing_ok=True)  # an old picture must not pass for this run's
        page.goto(f"{live_server.url}/{language}/p/{demo_petition.slug}/")
        _settled(page)
        expect(page.locator("h1")).to_have_text(getattr(demo_petition, f"title_{language}"))
        expect(page.locator("#id_name")).to_be_visible()
        page.screenshot(path=target, full_page=True, animations="disabled", caret="hide")
        size = target.stat().st_size
        assert size > MIN_SCREENSHOT_BYTES, f"{target} is only {size} bytes"


@pytest.mark.parametrize("width", [320, 360, 390])
def test_a_persian_date_in_the_byline_stays_on_one_line_on_a_phone(
    page, live_server, demo_petition, width
):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server.url}/fa/p/{demo_petition.slug}/")
    _settled(page)
    date = page.locator(".petition__byline time")
    lines = date.evaluate("time => new Set([...time.getClientRects()].map(r => r.top)).size")
    assert lines == 1, f"{date.text_content()!r} is split over {lines} lines"
