"""A won petition in Persian, as a reader's browser lays it out: the victory and the
decision maker's response at the top, two updates in a dated timeline in Solar Hijri dates with
Persian digits, right to left, an English-only update kept left to right, and no serious
accessibility violation."""

import datetime
import re

from playwright.sync_api import expect

from petitions.models import Petition, Update
from tests.browser.test_accessibility_browser import assert_no_serious_violations
from tests.factories import make_petition, make_signature

ASCII_DIGIT = re.compile(r"[0-9]")
MIN_SCREENSHOT_BYTES = 20_000


def won_petition_with_news() -> tuple[Petition, Update, Update]:
    petition = make_petition(
        outcome=Petition.Outcome.WON,
        outcome_date=datetime.date(2026, 4, 2),
        response_en="We accept the petition.",
        response_fa="وزارت درخواست کارزار را می‌پذیرد و طرح را متوقف می‌کند.",
        response_date=datetime.date(2026, 3, 30),
        response_url="https://example.gov/statement",
    )
    for _ in range(3):
        make_signature(petition)
    hearing = Update.objects.create(
        petition=petition,
        title_en="The hearing is set",
        body_en="Monday at ten.",
        title_fa="جلسهٔ رسیدگی تعیین شد",
        body_fa="دوشنبه ساعت ده.",
        status=Update.Status.PUBLISHED,
        published_at=datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC),
    )
    english_only = Update.objects.create(
        petition=petition,
        title_en="Press coverage",
        body_en="Three newspapers reported on the petition.",
        status=Update.Status.PUBLISHED,
        published_at=datetime.datetime(2026, 3, 20, 12, tzinfo=datetime.UTC),
    )
    return petition, hearing, english_only


def test_a_won_petition_in_persian_shows_victory_response_and_timeline(
    page, live_server, transactional_db, axe_source, screenshot_dir
):
    petition, hearing, english_only = won_petition_with_news()
    page.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    page.evaluate("document.fonts.ready.then(() => true)")
    assert page.evaluate("document.documentElement.dir") == "rtl"

    outcome = page.locator(".outcome")
    expect(outcome.locator(".outcome__state")).to_have_text("پیروزی!")
    assert outcome.evaluate("el => getComputedStyle(el).direction") == "rtl"
    # At the top: right under the title, above the summary and the sign form.
    title = page.locator("h1").bounding_box()
    top = outcome.bounding_box()
    summary = page.locator(".petition__summary").bounding_box()
    assert title["y"] < top["y"] < summary["y"]
    expect(outcome).to_contain_text("وزارت درخواست کارزار را می‌پذیرد")
    dates = outcome.locator("time").all_inner_texts()
    assert dates == ["۱۳ فروردین ۱۴۰۵", "۱۰ فروردین ۱۴۰۵"]  # 2 and 30 March 2026

    items = page.locator(".update")
    expect(items).to_have_count(2)
    # Newest first, each with its Solar Hijri date in Persian digits.
    assert items.nth(0).get_attribute("id") == f"update-{english_only.pk}"
    assert items.nth(1).get_attribute("id") == f"update-{hearing.pk}"
    assert items.locator(".update__date").all_inner_texts() == ["۲۹ اسفند ۱۴۰۴", "۱۰ اسفند ۱۴۰۴"]
    for text in items.locator(".update__date").all_inner_texts():
        assert not ASCII_DIGIT.search(text), text
    expect(items.nth(1).locator(".update__title")).to_have_text("جلسهٔ رسیدگی تعیین شد")
    persian = items.nth(1).locator("article")
    assert persian.evaluate("el => getComputedStyle(el).direction") == "rtl"
    # The update written only in English stays English, left to right, inside the Persian page.
    english = items.nth(0).locator("article")
    assert english.get_attribute("lang") == "en"
    assert english.evaluate("el => getComputedStyle(el).direction") == "ltr"
    # The timeline's rule runs down the right-hand side, where a Persian reader starts.
    border = items.nth(1).evaluate("el => getComputedStyle(el).borderRightWidth")
    assert border != "0px", border

    assert_no_serious_violations(page, axe_source, "won petition with news (fa)")

    target = screenshot_dir / "petition-won-fa.png"
    target.unlink(missing_ok=True)
    page.screenshot(path=target, full_page=True, animations="disabled", caret="hide")
    assert target.stat().st_size > MIN_SCREENSHOT_BYTES


def test_the_english_page_of_the_same_petition_says_victory(page, live_server, transactional_db):
    petition, _, _ = won_petition_with_news()
    page.goto(f"{live_server.url}/en/p/{petition.slug}/")
    expect(page.locator(".outcome__state")).to_have_text("Victory!")
    expect(page.locator(".update__date")).to_have_text(["20 March 2026", "1 March 2026"])
