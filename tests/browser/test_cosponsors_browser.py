"""Gathering supporters in Persian in a real browser: a starter starts a petition and confirms
it; it gathers supporters instead of waiting for review; each supporter opens the private link in
a browser of their own, backs it and confirms from the email read off a real SMTP server
(aiosmtpd); the last one sends it for review, and the starter's page and inbox say so."""

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from lib.models import AuditEntry
from petitions.models import Petition
from tests.browser.test_accessibility_browser import assert_no_serious_violations

TITLE = "نجات دریاچه ارومیه"
REQUIRED = 2


@pytest.fixture(autouse=True)
def _two_supporters_people_who_write_fast(settings):
    settings.COSPONSORS_REQUIRED = REQUIRED
    # Playwright types well under the minimum time a person takes.
    settings.START_MIN_FILL_SECONDS = 0
    settings.SIGN_MIN_FILL_SECONDS = 0


def link_in(message, path: str) -> str:
    html = message.get_body(preferencelist=("html",)).get_content()
    return re.search(rf'href="([^"]+/{path}/[^"]+)"', html).group(1)


def start_and_confirm(page, live_server, mailbox) -> Petition:
    """A starter starts TITLE in Persian and confirms their email from the link sent."""
    page.goto(f"{live_server.url}/fa/start/")
    page.fill("#id_starter_name", "سارا کریمی")
    page.fill("#id_email", "sara@example.com")
    page.fill("#id_title_fa", TITLE)
    page.fill("#id_addressed_to_fa", "سازمان حفاظت محیط زیست")
    page.fill("#id_summary_fa", "دریاچه ارومیه در حال خشک شدن است.")
    page.fill("#id_letter_fa", "ریاست محترم سازمان،\n\nلطفاً برای نجات دریاچه اقدام کنید.")
    page.get_by_role("button", name="پیش‌نمایش کارزار").click()
    page.get_by_role("button", name="کارزارتان را بفرستید").click()
    expect(page).to_have_url(re.compile(r"/fa/start/sent/$"))

    page.goto(link_in(mailbox.messages[0], "start/link"))
    page.get_by_role("button", name="ایمیلم را تأیید می‌کنم").click()
    petition = Petition.objects.get()
    expect(page).to_have_url(re.compile(rf"/fa/my/{quote(petition.slug)}/$"))
    return petition


def back_it(browser, link: str, mailbox, n: int, axe_source=None) -> None:
    """Supporter `n`, in a browser of their own, backs the petition through its private link
    and confirms from the email."""
    context = browser.new_context(locale="fa-IR")
    supporter = context.new_page()
    supporter.goto(link)
    expect(supporter.locator(".supporters__notice")).to_contain_text("هنوز منتشر نشده است")
    expect(supporter.locator("h1")).to_have_text(TITLE)
    if axe_source:
        assert_no_serious_violations(supporter, axe_source, "supporters' page (fa)")
    supporter.fill("#id_name", f"حامی شماره {n}")
    supporter.fill("#id_email", f"supporter{n}@example.com")
    supporter.get_by_role("button", name="از این کارزار حمایت کنید").click()
    expect(supporter.locator(".messages")).to_contain_text("ایمیل خود را ببینید")
    confirmation = mailbox.messages[-1]
    assert confirmation["To"] == f"supporter{n}@example.com"
    assert confirmation["Content-Language"] == "fa"
    supporter.goto(link_in(confirmation, "support/confirm"))
    supporter.get_by_role("button", name="حمایتم را تأیید می‌کنم").click()
    expect(supporter.locator("h1")).to_have_text("حمایت شما تأیید شد")
    context.close()


def test_a_persian_petition_gathers_its_supporters_and_goes_for_review(
    page, browser, live_server, mailbox, settings, transactional_db, axe_source
):
    settings.SITE_URL = live_server.url  # the mailbox fixture points it at the test client
    petition = start_and_confirm(page, live_server, mailbox)
    assert petition.status == Petition.Status.GATHERING
    expect(page.locator(".mine__state")).to_contain_text("در حال گردآوری حامیان")
    expect(page.locator(".mine__supporters .progress__line")).to_have_text("۰ از ۲ حامی")
    assert_no_serious_violations(page, axe_source, "starter's page gathering supporters (fa)")
    link = page.locator("#supporters-url-fa").input_value()
    assert link.startswith(f"{live_server.url}/fa/support/")

    # Not in the moderators' queue while it gathers.
    assert not Petition.objects.waiting_for_review().exists()

    for n in range(1, REQUIRED + 1):
        back_it(browser, link, mailbox, n, axe_source if n == 1 else None)
        if n < REQUIRED:
            page.reload()
            expect(page.locator(".mine__supporters .progress__line")).to_have_text("۱ از ۲ حامی")

    petition.refresh_from_db()
    assert petition.status == Petition.Status.PENDING
    assert AuditEntry.objects.get(action="petition.supported").detail == {"supporters": REQUIRED}
    told = mailbox.messages[-1]
    assert told["To"] == "sara@example.com" and told["Content-Language"] == "fa"
    assert "در انتظار بررسی" in told["Subject"]
    page.reload()
    expect(page.locator(".mine__state")).to_contain_text("در انتظار بررسی")
    expect(page.locator(".mine__supporters")).to_have_count(0)
