"""The whole email-confirmation path in a real browser: sign, read the email, open the link,
press the button, and watch the count move on another open page."""

import re

import pytest
from playwright.sync_api import expect

from signatures.models import Signature
from tests.factories import make_petition, make_signature


@pytest.fixture(autouse=True)
def _people_type_fast_in_tests(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0


def test_confirming_by_email_moves_the_count(
    page, browser, live_server, mailbox, settings, transactional_db
):
    settings.SITE_URL = live_server.url
    petition = make_petition(requires_confirmation=True, goal=100)
    make_signature(petition)
    make_signature(petition)

    watcher = browser.new_context(locale="fa-IR").new_page()
    watcher.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    expect(watcher.locator("[data-counter]")).to_have_text("۲")

    page.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    page.fill("#id_name", "سارا کریمی")
    page.fill("#id_email", "sara@example.com")
    page.get_by_role("button", name="این کارزار را امضا کنید").click()
    expect(page).to_have_url(re.compile(r"/thanks/\?check=email$"))
    expect(page.locator("h1")).to_have_text("یک گام دیگر: ایمیلتان را ببینید")
    assert Signature.objects.get(email="sara@example.com").status == "pending"

    [message] = mailbox.messages
    assert message["Content-Language"] == "fa"
    html = message.get_body(preferencelist=("html",)).get_content()
    link = re.search(r'href="([^"]+/confirm/[^"]+)"', html).group(1)
    assert link.startswith(live_server.url + "/fa/confirm/")

    page.goto(link)  # what a mail scanner would do too: nothing is confirmed yet
    expect(page.locator("h1")).to_have_text("امضای خود را تأیید کنید")
    expect(watcher.locator("[data-counter]")).to_have_text("۲")

    page.get_by_role("button", name="امضایم را تأیید می‌کنم").click()
    expect(page).to_have_url(re.compile(r"/thanks/\?confirmed=1$"))
    expect(page.locator("[data-counter]")).to_have_text("۳")

    # The other reader's page polls count.json and catches up on its own.
    expect(watcher.locator("[data-counter]")).to_have_text("۳", timeout=15_000)
    watcher.context.close()
