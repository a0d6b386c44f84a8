"""The petition page as a reader's browser lays it out, in both languages.

These check what only a rendering engine can: computed direction, where boxes land on the screen,
which digits a reader sees, and a picture of each page for a human to look over.
"""

import re

from playwright.sync_api import expect

from signatures.models import SignatureCount
from tests.factories import make_petition, make_signature

ASCII_DIGIT = re.compile(r"[0-9]")
PERSIAN_NUMBER = re.compile(r"[۰-۹]+(٬[۰-۹]{3})*")
# A rendered page below this size is blank or an error page, not the petition.
MIN_SCREENSHOT_BYTES = 20_000


def _open(page, live_server, language, slug):
    page.goto(f"{live_server.url}/{language}/p/{slug}/")
    # Font swaps move text; waiting for them makes boxes and pictures the same on every run.
    page.evaluate("document.fonts.ready.then(() => true)")


def _sign_panel_and_letter(page):
    sign = page.locator(".petition__sign").bounding_box()
    letter = page.locator(".petition__letter").first.bounding_box()
    assert sign and letter, "sign panel or letter is not rendered"
    return sign, letter


def test_persian_petition_page_is_right_to_left(page, live_server, transactional_db):
    petition = make_petition()
    for _ in range(3):
        make_signature(petition)

    _open(page, live_server, "fa", petition.slug)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "fa"
    heading = page.locator("h1")
    expect(heading).to_have_text(petition.title_fa)
    assert heading.evaluate("el => getComputedStyle(el).direction") == "rtl"

    sign, letter = _sign_panel_and_letter(page)
    assert sign["x"] + sign["width"] <= letter["x"], (
        f"Persian: sign panel {sign} should stand to the left of the letter {letter}"
    )

    # The same stylesheet in English must put the panel on the other side.
    _open(page, live_server, "en", petition.slug)
    assert page.evaluate("document.documentElement.dir") == "ltr"
    sign, letter = _sign_panel_and_letter(page)
    assert sign["x"] >= letter["x"] + letter["width"], (
        f"English: sign panel {sign} should stand to the right of the letter {letter}"
    )


def test_persian_counter_shows_persian_digits(page, live_server, transactional_db):
    petition = make_petition(goal=5000)
    for _ in range(3):
        make_signature(petition)
    # 1,234 real rows would make this test slow; the page reads the shard sum, so set that.
    SignatureCount.create_shards(petition.pk)
    SignatureCount.objects.filter(petition=petition).update(count=0)
    SignatureCount.objects.filter(petition=petition, shard=0).update(count=1234)

    _open(page, live_server, "fa", petition.slug)
    counter = page.locator("[data-counter]")
    expect(counter).to_have_text("۱٬۲۳۴")
    shown = counter.inner_text().strip()
    assert not ASCII_DIGIT.search(shown), f"ASCII digits in the Persian counter: {shown!r}"
    assert PERSIAN_NUMBER.fullmatch(shown), f"not a grouped Persian number: {shown!r}"
    # Scripts read the attribute, so it must stay ASCII while the visible text is Persian.
    expect(page.locator(".counter")).to_have_attribute("data-count", "1234")


def test_language_switcher_keeps_the_same_petition(page, live_server, transactional_db):
    petition = make_petition()
    en_url = f"{live_server.url}/en/p/{petition.slug}/"
    fa_url = f"{live_server.url}/fa/p/{petition.slug}/"

    page.goto(en_url)
    expect(page.locator("h1")).to_have_text(petition.title_en)

    page.locator("nav.language-switcher a[hreflang=fa]").click()
    expect(page).to_have_url(fa_url)
    expect(page.locator("h1")).to_have_text(petition.title_fa)
    expect(page.locator("html")).to_have_attribute("lang", "fa")

    page.locator("nav.language-switcher a[hreflang=en]").click()
    expect(page).to_have_url(en_url)
    expect(page.locator("h1")).to_have_text(petition.title_en)
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_screenshots_of_both_languages(page, live_server, transactional_db, screenshot_dir):
    from petitions.demo.loader import load_demo

    petition = load_demo(signatures=40)
    for language in ("en", "fa"):
        target = screenshot_dir / f"petition-{language}.png"
        # A picture left over from an earlier run must not pass for this run's.
        target.unlink(missing_ok=True)

        _open(page, live_server, language, petition.slug)
        expect(page.locator("h1")).to_have_text(getattr(petition, f"title_{language}"))
        page.screenshot(path=target, full_page=True, animations="disabled", caret="hide")

        assert target.exists(), f"no screenshot written to {target}"
        size = target.stat().st_size
        assert size > MIN_SCREENSHOT_BYTES, f"{target} is only {size} bytes"
