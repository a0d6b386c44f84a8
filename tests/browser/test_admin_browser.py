"""The admin as a Persian-speaking moderator sees it, in a real browser: screenshots of
the index, the petition form, the signature list at 1366 px and 390 px and a signature's page, in
both languages, with what must hold on them."""

import re

import pytest
from django.conf import settings

from tests.factories import make_staff

LANGUAGES = ["en", "fa"]
PASSWORD = "a-long-test-password"
PERSIAN_MONTHS = "فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند"
SOLAR_HIJRI_MOMENT = re.compile(
    rf"^[۰-۹]{{1,2}} ({PERSIAN_MONTHS}) [۰-۹]{{4}}، [۰-۹]{{2}}:[۰-۹]{{2}}$"
)
# Latin words allowed on a Persian page: the technical names axes keeps in its own Persian.
ALLOWED_LATIN = {"IP", "CSV", "JSON", "Lines", "GET", "POST", "HTTP"}
MIN_SCREENSHOT_BYTES = 10_000

# The page's own words, without what people typed: table rows, form values, isolated names and
# addresses, and anything marked as English or left-to-right.
OWN_WORDS_JS = """() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll(
        'tbody, input, textarea, select, option, bdi, code, pre, script, style, .readonly, ' +
        '[lang="en"], [dir="ltr"], #user-tools strong, .help, .visually-hidden'
    ).forEach((el) => el.remove());
    return copy.textContent;
}"""


@pytest.fixture
def desk(transactional_db):
    """The demo petition with a crowd of signers, and a moderator to sign in."""
    from petitions.demo.loader import load_demo

    petition = load_demo(signatures=150)
    make_staff(username="moderator")
    return petition


def sign_in(page, base: str, language: str):
    # The address a Persian moderator would type: /fa/admin/ remembers the choice.
    page.goto(f"{base}/{language}/{settings.ADMIN_URL}")
    page.fill("#id_username", "moderator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")


def latin_words(page) -> list[str]:
    text = page.evaluate(OWN_WORDS_JS)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED_LATIN]


def overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def shoot(page, screenshot_dir, name: str) -> None:
    page.evaluate("document.fonts.ready.then(() => true)")
    target = screenshot_dir / f"{name}.png"
    page.screenshot(path=target, full_page=True, animations="disabled", caret="hide")
    assert target.stat().st_size > MIN_SCREENSHOT_BYTES, target


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_screenshots_and_what_they_must_show(
    page, live_server, desk, screenshot_dir, language
):
    from signatures.models import Signature

    base = live_server.url
    admin = f"{base}/{settings.ADMIN_URL}"
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, base, language)
    assert page.get_attribute("html", "lang") == language

    signature = Signature.objects.filter(petition=desk).order_by("-created_at").first()
    pages = {
        "index": admin,
        "petition-edit": f"{admin}petitions/petition/{desk.pk}/change/",
        "signature-list-1366": f"{admin}signatures/signature/",
        "signature-detail": f"{admin}signatures/signature/{signature.pk}/change/",
    }
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_selector("#content")
        if language == "fa":
            assert latin_words(page) == [], name
        shoot(page, screenshot_dir, f"admin-{name}-{language}")

    # The signature list at a moderator's 1366 px: no sideways scroll, the date column whole.
    page.goto(pages["signature-list-1366"])
    assert overflow(page) <= 0
    header = page.locator("#result_list th.column-created_at").bounding_box()
    assert header["x"] >= 0 and header["x"] + header["width"] <= 1366
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 50
    # One line a row: a row no taller than two lines of text.
    assert rows.first.bounding_box()["height"] < 60
    dates = page.locator("#result_list td.field-created_at").all_inner_texts()
    if language == "fa":
        assert all(SOLAR_HIJRI_MOMENT.match(text.strip()) for text in dates), dates[:3]
        paginator = page.locator("p.paginator").inner_text()
        assert re.search("[۰-۹]", paginator) and not re.search("[0-9]", paginator), paginator
    else:
        assert all(re.search(r"\d{4}, \d{2}:\d{2}$", text) for text in dates), dates[:3]

    # The petition form: the tools sit above the title, not over it, and the required fields are
    # marked before anything is saved.
    page.goto(pages["petition-edit"])
    marker = page.evaluate(
        "getComputedStyle(document.querySelector('label.required[for=id_slug]'), '::after').content"
    )
    assert "*" in marker
    tools = page.locator("#content-main .object-tools").bounding_box()
    heading = page.locator("#content h2").first.bounding_box()
    assert (
        tools["y"] + tools["height"] <= heading["y"] + 1
        or heading["y"] + heading["height"] <= tools["y"] + 1
    )

    # On a phone the list scrolls inside its own box, never the page.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages["signature-list-1366"])
    assert overflow(page) <= 0
    shoot(page, screenshot_dir, f"admin-signature-list-390-{language}")


def test_the_address_fills_in_from_the_english_title(page, live_server, desk):
    sign_in(page, live_server.url, "en")
    page.goto(f"{live_server.url}/{settings.ADMIN_URL}petitions/petition/add/")
    page.locator("#id_title_en").press_sequentially("Free the River Now")
    assert page.input_value("#id_slug") == "free-the-river-now"


def test_tidy_persian_step_shows_the_change_as_a_diff(page, live_server, desk, screenshot_dir):
    from tests.factories import make_petition

    pasted = make_petition(
        title_fa="آیت\u200cالله خامنه\u200cای",
        summary_fa="این کارزار میکند , چرا ?",
        letter_fa="رژیم به رهبری آیت الله خامنهای به مدت 43 سال سازمانهای نیابتی را تامین میکند.\n"
        "مردم بی گناه تحریم شدهاند.",
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server.url, "fa")
    page.goto(f"{live_server.url}/{settings.ADMIN_URL}petitions/petition/{pasted.pk}/tidy-persian/")
    diffs = page.locator(".tidy-diff")
    assert diffs.count() == 2
    assert page.locator(".tidy-diff ins .zwnj").count() >= 5  # each added ZWNJ is visible
    assert latin_words(page) == []
    shoot(page, screenshot_dir, "admin-tidy-persian-fa")
    page.click(".submit-row input[type=submit]")
    page.wait_for_selector("#content-main")
    pasted.refresh_from_db()
    assert "خامنه\u200cای" in pasted.letter_fa and "۴۳" in pasted.letter_fa


# The headers and times whose box does not show all their text or lies outside the list's visible
# area (a column pushed past the list's edge is cut by its scroll box). Names, emails and titles
# are cut with an ellipsis by design: the full text is one click away.
CLIPPED_CELLS_JS = """() => {
    const results = document.querySelector('#changelist .results') || document.body;
    const box = results.getBoundingClientRect();
    return [...document.querySelectorAll(
        '#result_list thead th, #result_list td.field-created_at, #result_list td.field-status'
    )]
        .filter((cell) => cell.textContent.trim())
        .filter((cell) => {
            const rect = cell.getBoundingClientRect();
            const inner = cell.querySelector('a, span, div') || cell;
            return cell.scrollWidth > cell.clientWidth + 1
                || inner.scrollWidth > inner.clientWidth + 1
                || rect.left < box.left - 1 || rect.right > box.right + 1;
        })
        .map((cell) => cell.textContent.trim().slice(0, 40));
}"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_signature_list_shows_every_header_and_time_whole_at_1366(
    page, live_server, desk, language
):
    from tests.factories import make_signature

    hostile = 'Save the "Green" park\'s <script>alert(1)</script> & co 🌳\u200cها'
    desk.title_en = desk.title_fa = hostile
    desk.save(update_fields=["title_en", "title_fa"])
    make_signature(desk, name="A" * 100, locality="Kerman")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server.url, language)
    page.goto(f"{live_server.url}/{settings.ADMIN_URL}signatures/signature/")
    page.evaluate("document.fonts.ready.then(() => true)")
    assert page.evaluate(CLIPPED_CELLS_JS) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_decide_page_fits_a_phone_with_a_long_name_and_note(
    page, live_server, transactional_db, language
):
    from lib import audit
    from petitions.models import Petition
    from tests.factories import make_petition

    make_staff(username="moderator")
    pending = make_petition(
        status=Petition.Status.PENDING, starter_name="B" * 100, starter_email="s@example.com"
    )
    audit.record(
        "moderator",
        audit.Action.PETITION_REJECTED,
        pending,
        reason=Petition.RejectionReason.OTHER,
        note="A" * 100,
    )
    sign_in(page, live_server.url, language)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server.url}/{settings.ADMIN_URL}petitions/reviewqueue/{pending.pk}/decide/")
    assert overflow(page) <= 0
