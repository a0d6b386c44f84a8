"""Starting a petition in Persian in a real browser: write a Persian-only petition,
preview it, submit, confirm the email from the message read off a real SMTP server (aiosmtpd),
see it waiting for review; a moderator publishes it in the admin; it is public in Persian, its
English address says it is only in Persian, and the starter's page shows its count."""

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from lib.models import AuditEntry
from petitions.models import Petition
from tests.browser.test_accessibility_browser import assert_no_serious_violations
from tests.factories import make_staff

TITLE = "نجات دریاچه ارومیه"


@pytest.fixture(autouse=True)
def _people_write_fast_in_tests(settings):
    # Playwright types a petition in well under the minimum time a person takes.
    settings.START_MIN_FILL_SECONDS = 0
    settings.SIGN_MIN_FILL_SECONDS = 0


def test_a_persian_only_petition_from_start_to_published(
    page, browser, live_server, mailbox, settings, transactional_db, axe_source
):
    settings.SITE_URL = live_server.url
    make_staff("moderator")

    # The starter finds the start page from the Persian home page.
    page.goto(f"{live_server.url}/fa/")
    page.get_by_role("link", name="همین امروز کارزاری آغاز کنید").click()
    expect(page.locator("h1")).to_have_text("کارزاری آغاز کنید")
    assert_no_serious_violations(page, axe_source, "start page (fa)")

    page.fill("#id_starter_name", "سارا کریمی")
    page.fill("#id_email", "sara@example.com")
    page.fill("#id_title_fa", TITLE)
    page.fill("#id_addressed_to_fa", "سازمان حفاظت محیط زیست")
    page.fill("#id_summary_fa", "دریاچه ارومیه در حال خشک شدن است.")
    page.fill("#id_letter_fa", "ریاست محترم سازمان،\n\nلطفاً برای نجات دریاچه اقدام کنید.")
    page.fill("#id_goal", "۵۰۰")
    page.get_by_role("button", name="پیش‌نمایش کارزار").click()

    # The preview is the petition page itself, in Persian, with nothing saved yet.
    expect(page.locator("#preview-heading")).to_be_visible()
    expect(page.locator("h1.petition__title")).to_have_text(TITLE)
    assert not Petition.objects.exists()
    assert_no_serious_violations(page, axe_source, "preview (fa)")
    page.get_by_role("button", name="کارزارتان را بفرستید").click()
    expect(page).to_have_url(re.compile(r"/fa/start/sent/$"))
    expect(page.locator("h1")).to_have_text("ایمیلتان را ببینید")

    # The link, read off the SMTP server; opening it (as a mail scanner would) confirms nothing.
    [message] = mailbox.messages
    assert message["Content-Language"] == "fa"
    html = message.get_body(preferencelist=("html",)).get_content()
    link = re.search(r'href="([^"]+/start/link/[^"]+)"', html).group(1)
    assert link.startswith(live_server.url + "/fa/start/link/")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("ایمیلتان را تأیید کنید")
    assert Petition.objects.get().status == Petition.Status.DRAFT
    page.get_by_role("button", name="ایمیلم را تأیید می‌کنم").click()
    petition = Petition.objects.get()
    expect(page).to_have_url(re.compile(rf"/fa/my/{quote(petition.slug)}/$"))
    expect(page.locator(".mine__state")).to_contain_text("در انتظار بررسی")
    assert_no_serious_violations(page, axe_source, "starter's page (fa)")

    # Unseen by the public while it waits.
    public = browser.new_context(locale="fa-IR").new_page()
    assert public.goto(f"{live_server.url}/fa/p/{petition.slug}/").status == 404

    # A moderator publishes it from the queue in the admin.
    admin = browser.new_context(locale="en-GB").new_page()
    admin.goto(f"{live_server.url}/admin/login/?next=/admin/petitions/reviewqueue/")
    admin.fill("#id_username", "moderator")
    admin.fill("#id_password", "a-long-test-password")
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("link", name="Read and decide").click()
    expect(admin.locator(".review__language h3")).to_have_text(TITLE)
    admin.get_by_label("Published").check()
    admin.get_by_role("button", name="Save the decision").click()
    expect(admin.locator(".messagelist")).to_contain_text("Published")
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN
    assert AuditEntry.objects.get(action="petition.published").actor_label == "moderator"
    assert "منتشر شد" in mailbox.messages[-1]["Subject"]

    # Public in Persian; the English address says it is only in Persian and links there.
    public.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    expect(public.locator("h1")).to_have_text(TITLE)
    public.goto(f"{live_server.url}/en/p/{petition.slug}/")
    expect(public.locator("h1")).to_have_text("This petition is only in Persian")
    public.get_by_role("link", name="Read and sign it in Persian").click()
    expect(public).to_have_url(re.compile(rf"/fa/p/{quote(petition.slug)}/$"))

    # Someone signs, and the starter's page shows the count.
    public.fill("#id_name", "مریم احمدی")
    public.fill("#id_email", "maryam@example.com")
    public.get_by_role("button", name="این کارزار را امضا کنید").click()
    expect(public).to_have_url(re.compile(r"/thanks/$"))
    page.reload()
    expect(page.locator(".mine__state")).to_contain_text("منتشر شده است")
    expect(page.locator(".progress__count")).to_have_text("۱")
    expect(page.locator("#embed-fa-iframe")).to_have_value(
        re.compile(rf"/fa/p/{quote(petition.slug)}/embed/")
    )
    public.context.close()
    admin.context.close()


def open_starters_page(page, live_server, petition, language="en"):
    from petitions import starting

    page.goto(f"{live_server.url}/{language}/start/link/{starting.make_token(petition)}/")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/{language}/my/{petition.slug}/$"))


def published_by_a_starter():
    from tests.factories import make_petition

    return make_petition(
        starter_email="starter@example.com", starter_email_canonical="starter@example.com"
    )


def test_the_starters_page_copies_each_embed_snippet(page, live_server, transactional_db):
    petition = published_by_a_starter()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    open_starters_page(page, live_server, petition)
    buttons = page.locator("[data-copy]")
    expect(buttons).to_have_count(8)  # four snippets in each language
    for n in range(8):
        expect(buttons.nth(n)).to_be_visible()
    page.locator('[data-copy="#embed-fa-badge"]').click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#embed-fa-badge").input_value()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied")


@pytest.mark.parametrize("width", [390, 1366])
def test_the_starters_page_shows_the_whole_blog_engine_address(
    page, live_server, transactional_db, width
):
    petition = published_by_a_starter()
    page.set_viewport_size({"width": width, "height": 900})
    open_starters_page(page, live_server, petition)
    box = page.locator("#embed-en-page")
    shown, needed = box.evaluate("input => [input.clientWidth, input.scrollWidth]")
    assert needed <= shown, f"the address needs {needed}px in a {shown}px box"
