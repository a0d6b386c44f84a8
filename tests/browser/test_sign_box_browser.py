"""The sign box on the petition page: "Sign as Sara K." keeps its space in both
languages, and a short summary leaves no gap before the letter on a desktop."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_petition

LANGUAGES = ["en", "fa"]


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0
    settings.SIGN_MIN_CLICK_SECONDS = 0


@pytest.mark.parametrize(
    ("language", "sign_as"), [("en", "Sign as Sara K."), ("fa", "امضا به نام Sara K.")]
)
def test_one_click_button_keeps_the_space_before_the_name(
    page, live_server, transactional_db, language, sign_as
):
    first, second = make_petition(), make_petition()
    page.goto(f"{live_server.url}/{language}/p/{first.slug}/")
    page.fill("#id_name", "Sara Karimi")
    page.fill("#id_email", "sara@example.com")
    page.select_option("#id_country", "GB")
    page.click("form[data-sign-form] button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/p/{first.slug}/thanks/"))

    page.goto(f"{live_server.url}/{language}/p/{second.slug}/")
    button = page.locator(".one-click button.button--sign")
    # What the reader sees, as laid out: the space must survive the flex button.
    assert button.inner_text().strip() == sign_as
    # The first petition now says it was signed, with the share links.
    page.goto(f"{live_server.url}/{language}/p/{first.slug}/")
    expect(page.locator(".already-signed")).to_be_visible()  # once the script has put it in
    assert page.locator(".already-signed .share__links a").count() >= 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_short_summary_leaves_no_gap_before_the_letter_on_a_desktop(
    page, live_server, transactional_db, language
):
    petition = make_petition(summary_en="Short.", summary_fa="کوتاه.")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/{language}/p/{petition.slug}/")
    # The summary's text, not its box (a stretched box is the gap itself).
    text_bottom = page.evaluate(
        """() => {
            const range = document.createRange();
            range.selectNodeContents(document.querySelector('.petition__summary'));
            return range.getBoundingClientRect().bottom;
        }"""
    )
    letter = page.locator(".petition__letter").first.bounding_box()
    sign_box = page.locator(".petition__sign").bounding_box()
    assert sign_box["height"] > 600  # the box is far taller than the text beside it
    gap = letter["y"] - text_bottom
    assert gap < 48, gap
