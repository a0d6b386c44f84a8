"""Signing with the keyboard alone, and a focus ring wherever focus lands.

Signing with JavaScript off is covered in test_signing_browser.py
(test_one_click_signing_without_javascript signs with the full form and then with one click, and
test_copy_button_stays_out_of_sight_without_javascript signs too), so it is not repeated here.
"""

import re

import pytest
from playwright.sync_api import expect

from signatures.models import Signature
from tests.factories import make_petition

THANKS_URL = re.compile(r"/fa/p/[^/]+/thanks/$")

FOCUS_STYLE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`,
        outline: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth) || 0,
        outlineColor: style.outlineColor,
        top: box.top, bottom: box.bottom, height: window.innerHeight,
    };
}"""


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    # See test_signing_browser.py: the minimum fill time would refuse Playwright's typing.
    settings.SIGN_MIN_FILL_SECONDS = 0


def assert_focus_is_visible(page, expected=None) -> dict:
    """The focused element draws a ring of at least 2 px and is on the screen."""
    if expected is not None:
        expect(expected).to_be_focused()
    focus = page.evaluate(FOCUS_STYLE)
    assert focus["outline"] != "none" and focus["outlineWidth"] >= 2, f"no focus ring: {focus}"
    assert focus["bottom"] > 0 and focus["top"] < focus["height"], f"focus off screen: {focus}"
    return focus


def test_signing_by_keyboard_alone_in_persian(page, live_server, transactional_db):
    petition = make_petition()
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # From the top: the first Tab shows the skip link, Enter jumps over the header to the content.
    page.keyboard.press("Tab")
    assert_focus_is_visible(page, page.locator(".skip-link"))
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    def tab_to(selector):
        page.keyboard.press("Tab")
        assert_focus_is_visible(page, page.locator(selector))

    # Under the counter, as they are read: where the count can be checked.
    tab_to(".counter__record a[href$='/record/']")
    tab_to(".counter__record a[href$='/receipt/']")
    tab_to("#id_name")
    page.keyboard.type("سارا کریمی")
    tab_to("#id_email")
    page.keyboard.type("sara@example.com")
    tab_to("#id_country")
    # A Persian page suggests Iran; the arrow keys would change it without opening the list.
    expect(page.locator("#id_country")).to_have_value("IR")
    tab_to("details.optional-fields summary")
    page.keyboard.press("Enter")
    expect(page.locator("details.optional-fields")).to_have_js_property("open", True)
    tab_to("#id_locality")
    page.keyboard.type("تهران")
    tab_to("#id_comment")
    page.keyboard.type("برای آزادی.")
    tab_to("#id_show_name")
    tab_to("#id_consent_contact")
    page.keyboard.press("Space")
    expect(page.locator("#id_consent_contact")).to_be_checked()
    tab_to("form[data-sign-form] button[type=submit]")
    page.keyboard.press("Enter")

    expect(page).to_have_url(THANKS_URL)
    expect(page.locator("h1")).to_have_text("از امضای شما سپاسگزاریم")
    signature = Signature.objects.get(petition=petition)
    assert (signature.name, signature.email, signature.country) == (
        "سارا کریمی",
        "sara@example.com",
        "IR",
    )
    assert signature.locality == "تهران"
    assert signature.consent_contact is True


@pytest.mark.parametrize("language", ["en", "fa"])
def test_every_tab_stop_shows_where_focus_is(page, live_server, transactional_db, language):
    """Walk the whole petition page and the thank-you page with Tab: a ring at every stop."""
    petition = make_petition()
    for path in (f"/p/{petition.slug}/", f"/p/{petition.slug}/thanks/"):
        page.goto(f"{live_server.url}/{language}{path}")
        # Open the optional fields so that their inputs are tab stops too.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        seen = []
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement === document.body"):
                break
            focus = assert_focus_is_visible(page)
            if seen and focus["what"] == seen[0]:
                break  # wrapped round to the first stop
            seen.append(focus["what"])
        assert len(seen) >= 5, f"only {len(seen)} tab stops on {path}: {seen}"


@pytest.mark.parametrize("language", ["en", "fa"])
def test_signing_in_the_widget_by_keyboard_alone(page, live_server, transactional_db, language):
    """The widget, in a phone-wide frame's size: every control in reading order, each
    with a visible focus ring, and a signature sent with Enter."""
    petition = make_petition()
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(f"{live_server.url}/{language}/p/{petition.slug}/embed/")
    order = []
    for _ in range(8):
        page.keyboard.press("Tab")
        focus = assert_focus_is_visible(page)
        order.append(focus["what"].split(".")[0])
    assert order[:4] == ["input#id_name", "input#id_email", "select#id_country", "summary"]
    assert order[4:6] == ["input#id_show_name", "input#id_consent_contact"]
    assert order[6].startswith("button") and order[7].startswith("a")

    page.locator("#id_name").focus()
    page.keyboard.type("Sara Karimi")
    page.keyboard.press("Tab")
    page.keyboard.type("keyboard-widget@example.com")
    page.keyboard.press("Tab")
    before = page.input_value("#id_country")
    page.keyboard.press("ArrowDown")  # a closed select changes with the arrow keys
    chosen = page.input_value("#id_country")
    assert chosen != before
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # a text field submits its form
    expect(page).to_have_url(re.compile(rf"/{language}/p/[^/]+/embed/thanks/$"))
    assert Signature.objects.get(petition=petition).country == chosen
