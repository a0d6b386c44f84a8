"""Signing in a real browser: the full form, one-click signing, double clicks, the live counter,
errors in Persian, and pictures of the Persian form at desktop and phone widths.

Every wait is on something the page shows (Playwright's auto-waiting and `expect`), never a sleep.
"""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, make_signature, sign_form_data

THANKS_URL = re.compile(r"/thanks/$")
ASCII_DIGIT = re.compile(r"[0-9]")
# A rendered page below this size is blank or an error page, not the petition.
MIN_SCREENSHOT_BYTES = 20_000
# count.json is polled every 5 s (±20 %) and the count is cached for 1 s; this leaves room for one
# missed poll on a slow machine without letting a dead counter hang the run.
LIVE_COUNTER_TIMEOUT = 15_000


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    """Playwright types a form in milliseconds, which the sign form's minimum fill time refuses as
    a bot. That defence has its own tests (tests/test_abuse.py); here it would only demand a sleep.
    The settings fixture changes the one settings object the live server's thread also reads."""
    settings.SIGN_MIN_FILL_SECONDS = 0
    settings.SIGN_MIN_CLICK_SECONDS = 0  # the same for one click (tests/test_one_click.py)


def _petition_url(live_server, petition, language="en"):
    return f"{live_server.url}/{language}/p/{petition.slug}/"


def _fill_full_form(page, *, name, email, country="GB"):
    page.locator("#id_name").fill(name)
    page.locator("#id_email").fill(email)
    page.locator("#id_country").select_option(country)


def _sign_button(page):
    return page.locator("form[data-sign-form] button[type=submit]")


def _sign_with_full_form(page, live_server, petition, *, name, email):
    page.goto(_petition_url(live_server, petition))
    _fill_full_form(page, name=name, email=email)
    _sign_button(page).click()
    expect(page).to_have_url(THANKS_URL)
    assert page.url == f"{live_server.url}/en/p/{petition.slug}/thanks/"


def _expect_one_click_form(page, short_name, language="en"):
    """The form has collapsed to a single button in the remembered supporter's name."""
    sign_as, not_you = SIGN_AS[language].format(short_name), NOT_YOU[language]
    expect(page.get_by_role("button", name=sign_as, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=not_you, exact=True)).to_be_visible()
    expect(page.locator("#id_name")).to_have_count(0)
    expect(page.locator("#id_email")).to_have_count(0)


SIGN_AS = {"en": "Sign as {}", "fa": "امضا به نام {}"}
NOT_YOU = {"en": "Not you?", "fa": "شما نیستید؟"}
SAVED_DETAILS = {"en": "Sign with your saved details", "fa": "امضا با مشخصات ذخیره‌شده"}


def _open_one_click(page, live_server, petition, language="en", *, scripts=True):
    """A returning supporter opens a petition's page: with scripts, the page (the same for
    everyone) puts their own sign box in place of the form; without, the form says where to
    ask for it (`?form`)."""
    page.goto(_petition_url(live_server, petition, language))
    if not scripts:
        expect(page.locator("#id_name")).to_be_visible()
        page.get_by_role("link", name=SAVED_DETAILS[language]).click()
        expect(page).to_have_url(_petition_url(live_server, petition, language) + "?form#sign")


def _only_signature(petition) -> Signature:
    signatures = list(Signature.objects.filter(petition=petition))
    assert len(signatures) == 1, f"{petition.slug} has {len(signatures)} signatures, expected 1"
    return signatures[0]


def _one_click_flow(page, live_server, *, scripts=True):
    """Sign A with the full form, then B with one click; returns (A's signature, B's)."""
    first, second = make_petition(), make_petition()

    _sign_with_full_form(page, live_server, first, name="Sara Karimi", email="sara@example.com")
    expect(page.locator(".thanks [data-counter]")).to_have_text("1")
    signed_first = _only_signature(first)

    _open_one_click(page, live_server, second, scripts=scripts)
    _expect_one_click_form(page, "Sara K.")
    page.get_by_role("button", name="Sign as Sara K.", exact=True).click()
    expect(page).to_have_url(THANKS_URL)
    assert page.url == f"{live_server.url}/en/p/{second.slug}/thanks/"
    expect(page.locator(".thanks [data-counter]")).to_have_text("1")

    signed_second = _only_signature(second)
    assert signed_second.email == signed_first.email == "sara@example.com"
    assert signed_second.name == "Sara Karimi"
    assert signed_second.country == "GB"
    return signed_first, signed_second


def test_one_click_signing_with_javascript(page, live_server, transactional_db):
    _one_click_flow(page, live_server)
    # Only the page script clears the copy button's `hidden`: proof that scripts ran.
    expect(page.locator("[data-copy]")).to_have_js_property("hidden", False)


def test_one_click_signing_without_javascript(page_without_js, live_server, transactional_db):
    page = page_without_js
    _one_click_flow(page, live_server, scripts=False)
    # Only the page script clears the copy button's `hidden`: still set means scripts were off.
    expect(page.locator("[data-copy]")).to_have_js_property("hidden", True)

    # "Not you?" on a shared device: the browser forgets Sara, the full form comes back, and
    # signing there signs as the person who typed, not as the remembered one.
    third = make_petition()
    _open_one_click(page, live_server, third, scripts=False)
    _expect_one_click_form(page, "Sara K.")
    page.get_by_role("button", name="Not you?", exact=True).click()
    expect(page).to_have_url(_petition_url(live_server, third) + "#sign")
    assert not [c for c in page.context.cookies() if c["name"] == "supporter"]
    expect(page.locator("#id_name")).to_be_visible()
    expect(page.locator("#id_email")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Sign as"))).to_have_count(0)

    _fill_full_form(page, name="Reza Ahmadi", email="reza@example.com", country="CA")
    _sign_button(page).click()
    expect(page).to_have_url(THANKS_URL)
    assert page.url == f"{live_server.url}/en/p/{third.slug}/thanks/"
    signed_third = _only_signature(third)
    assert (signed_third.name, signed_third.email, signed_third.country) == (
        "Reza Ahmadi",
        "reza@example.com",
        "CA",
    )

    # From now on this browser offers the new person's button.
    _open_one_click(page, live_server, make_petition(), scripts=False)
    _expect_one_click_form(page, "Reza A.")


@pytest.mark.parametrize("scripts", [True, False], ids=["with-js", "without-js"])
@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_returning_supporter_is_offered_one_click_and_signs(
    browser, live_server, transactional_db, language, scripts
):
    first, second = make_petition(), make_petition()
    context = browser.new_context(java_script_enabled=scripts, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(_petition_url(live_server, first, language))
        _fill_full_form(page, name="Sara Karimi", email="sara@example.com")
        _sign_button(page).click()
        expect(page).to_have_url(THANKS_URL)

        _open_one_click(page, live_server, second, language, scripts=scripts)
        _expect_one_click_form(page, "Sara K.", language)
        page.get_by_role("button", name=SIGN_AS[language].format("Sara K."), exact=True).click()
        expect(page).to_have_url(THANKS_URL)
        assert page.url == f"{live_server.url}/{language}/p/{second.slug}/thanks/"
        assert _only_signature(second).email == "sara@example.com"

        # The petition just signed says so, in place of the button.
        _open_one_click(page, live_server, second, language, scripts=scripts)
        expect(page.locator(".already-signed")).to_be_visible()
        expect(page.locator("form.one-click")).to_have_count(0)
    finally:
        context.close()


def test_copy_button_stays_out_of_sight_without_javascript(
    page_without_js, live_server, transactional_db
):
    page = page_without_js
    _sign_with_full_form(
        page, live_server, make_petition(), name="Sara Karimi", email="sara@example.com"
    )
    copy = page.locator("[data-copy]")
    expect(copy).to_have_js_property("hidden", True)
    expect(copy).to_be_hidden(timeout=1_000)


def test_double_click_on_sign_makes_one_signature(page, live_server, transactional_db):
    petition = make_petition()
    posts = []

    def note_post(request):
        if request.method == "POST":
            posts.append(request.url)

    page.on("request", note_post)

    page.goto(_petition_url(live_server, petition))
    _fill_full_form(page, name="Sara Karimi", email="sara@example.com")
    _sign_button(page).dblclick()
    expect(page).to_have_url(THANKS_URL)
    expect(page.locator(".thanks [data-counter]")).to_have_text("1")

    # The page script drops the second submission before it leaves the browser; the database's
    # unique constraint is only the last line of defence.
    assert posts == [f"{live_server.url}/en/p/{petition.slug}/sign/"]
    _only_signature(petition)
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_counter_moves_when_another_client_signs(page, live_server, transactional_db):
    petition = make_petition(goal=1000)
    # A petition with no signatures shows "Be the first to sign" with no live number in it.
    make_signature(petition)
    make_signature(petition)

    page.goto(_petition_url(live_server, petition, "fa"))
    counter = page.locator(".petition__sign [data-counter]")
    meter = page.locator(".petition__sign meter")
    expect(counter).to_have_text("۲")
    expect(meter).to_have_attribute("value", "2")

    # Another supporter signs from a different client: no cookies or page of ours involved.
    response = Client().post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    assert response.status_code == 302, response.status_code
    assert response["Location"].endswith(f"/p/{petition.slug}/thanks/")

    expect(counter).to_have_text("۳", timeout=LIVE_COUNTER_TIMEOUT)
    # The number animates, so wait for the meter to settle on the whole count too.
    expect(meter).to_have_js_property("value", 3, timeout=LIVE_COUNTER_TIMEOUT)
    expect(meter).to_have_attribute("value", "3")
    expect(page.locator(".petition__sign .counter")).to_have_attribute("data-count", "3")
    assert not ASCII_DIGIT.search(counter.inner_text())


def _submit_broken_persian_form(page, live_server):
    petition = make_petition()
    page.goto(_petition_url(live_server, petition, "fa"))
    page.locator("#id_name").fill("")
    page.locator("#id_email").fill("not-an-email")
    # novalidate on the form: the browser sends it as it is and the server answers.
    with page.expect_navigation() as navigation:
        _sign_button(page).click()
    assert navigation.value.status == 400
    assert page.url == f"{live_server.url}/fa/p/{petition.slug}/sign/"
    return petition


def test_persian_form_errors_are_shown_next_to_fields(page, live_server, transactional_db):
    petition = _submit_broken_persian_form(page, live_server)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    email = page.locator("#id_email")
    email_error = page.locator("#id_email_error")
    expect(email_error).to_have_text("لطفاً نشانی ایمیلتان را بررسی کنید.")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("dir", "ltr")
    # What was typed comes back, so the reader corrects it rather than retyping it.
    expect(email).to_have_value("not-an-email")

    # "Next to": in the same field box, directly under the input, and laid out right to left.
    field = page.locator(".field", has=email)
    expect(field).to_have_class(re.compile(r"\bfield--error\b"))
    expect(field.locator(".field__error")).to_have_attribute("id", "id_email_error")
    input_box, error_box = email.bounding_box(), email_error.bounding_box()
    assert input_box and error_box
    gap = error_box["y"] - (input_box["y"] + input_box["height"])
    assert 0 <= gap < 24, f"error {error_box} is not right under the email input {input_box}"
    assert error_box["x"] < input_box["x"] + input_box["width"]
    assert input_box["x"] < error_box["x"] + error_box["width"]
    assert email_error.evaluate("el => getComputedStyle(el).direction") == "rtl"

    # The empty name is flagged too, in Persian, and the summary at the top lists both.
    expect(page.locator("#id_name")).to_have_attribute("aria-invalid", "true")
    name_error = page.locator("#id_name_error")
    expect(name_error).to_be_visible()
    assert re.search(r"[\u0600-\u06FF]", name_error.inner_text()), name_error.inner_text()
    summary = page.locator("#form-errors")
    expect(summary).to_contain_text("لطفاً بخش‌های مشخص‌شده را اصلاح کنید.")
    expect(summary.locator("li")).to_have_count(2)

    assert not Signature.objects.filter(petition=petition).exists()


def test_persian_email_error_is_announced_with_the_field(page, live_server, transactional_db):
    _submit_broken_persian_form(page, live_server)
    email = page.locator("#id_email")
    described_by = (email.get_attribute("aria-describedby") or "").split()
    assert "id_email_error" in described_by, f"aria-describedby={described_by}"
    # What a screen reader reads after the field's name, as Chromium computes it.
    expect(email).to_have_accessible_description(
        re.compile("لطفاً نشانی ایمیلتان را بررسی کنید."), timeout=1_000
    )


@pytest.mark.parametrize(
    ("width", "filename"),
    [(1280, "petition-fa-form.png"), (360, "petition-fa-form-360.png")],
    ids=["desktop", "phone"],
)
def test_screenshot_of_persian_petition_page_with_form(
    page, live_server, transactional_db, screenshot_dir, width, filename
):
    from petitions.demo.loader import load_demo

    petition = load_demo(signatures=40)
    target = screenshot_dir / filename
    # A picture left over from an earlier run must not pass for this run's.
    target.unlink(missing_ok=True)

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(_petition_url(live_server, petition, "fa"))
    page.evaluate("document.fonts.ready.then(() => true)")
    expect(page.locator("h1")).to_have_text(petition.title_fa)
    # The full form, not the one-click button: this browser has never signed.
    expect(page.locator("#id_name")).to_be_visible()
    expect(page.locator("#id_email")).to_be_visible()
    expect(_sign_button(page)).to_have_text("این کارزار را امضا کنید")

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"

    page.screenshot(path=target, full_page=True, animations="disabled", caret="hide")
    assert target.exists(), f"no screenshot written to {target}"
    size = target.stat().st_size
    assert size > MIN_SCREENSHOT_BYTES, f"{target} is only {size} bytes"
