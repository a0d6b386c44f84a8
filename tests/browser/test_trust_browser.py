"""A count anyone can check, in a real browser and in both languages: sign, read the receipt code
on the thank-you page, check it (counted), withdraw it, and see the record and the count move.
Pictures of each page at phone and desktop widths, with a hostile title."""

import re

import pytest
from playwright.sync_api import expect

from signatures import receipts
from signatures.models import Signature, SignatureCount
from tests.browser.conftest import sticking_out
from tests.factories import make_petition, make_signature, make_staff

HOSTILE_TITLE = {
    "en": "\"Quotes\" & <script>alert('x')</script> ي ك 🎉 " + "Long" * 10,
    "fa": "«نقل‌قول» و <script>alert('x')</script> يك كتاب ي ك 🎉",
}
CODE = re.compile(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}$")
WORDS = {
    "en": {
        "counted": "This signature is counted",
        "withdraw": "Withdraw my signature",
        "yes": "Yes, withdraw my signature",
        "withdrawn": "This signature was withdrawn on",
        "check": "Check",
        "record": "Withdrawn by signers",
    },
    "fa": {
        "counted": "این امضا از",
        "withdraw": "امضایم را پس بگیر",
        "yes": "بله، امضایم را پس می‌گیرم",
        "withdrawn": "پس گرفته شد",
        "check": "بررسی",
        "record": "پس‌گرفته به‌دست امضاکنندگان",
    },
}


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0


def shoot(page, screenshot_dir, name: str):
    assert sticking_out(page) == [], name
    page.screenshot(
        path=screenshot_dir / f"trust-{name}.png", full_page=True, animations="disabled"
    )


def check_code(page, live_server, petition, language, code):
    page.goto(f"{live_server.url}/{language}/p/{petition.slug}/receipt/")
    page.locator("#receipt-code").fill(code)
    page.get_by_role("button", name=WORDS[language]["check"], exact=True).click()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1366])
@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_signer_checks_and_withdraws_and_the_record_shows_it(
    browser, live_server, screenshot_dir, language, width
):
    petition = make_petition(
        title_en=HOSTILE_TITLE["en"],
        title_fa=HOSTILE_TITLE["fa"],
        original_language=language,
    )
    make_signature(petition)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    shot = f"{language}-{width}"
    words = WORDS[language]
    try:
        page.goto(f"{live_server.url}/{language}/p/{petition.slug}/")
        page.locator("#id_name").fill("ك" * 50 + " " + "ي" * 49 if language == "fa" else "A" * 100)
        page.locator("#id_email").fill(f"signer-{language}-{width}@example.com")
        page.locator("#id_country").select_option("GB")
        page.locator("form[data-sign-form] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/thanks/$"))
        code = page.locator(".receipt-code__code code").inner_text().strip()
        assert CODE.match(code)
        assert code not in page.url
        shoot(page, screenshot_dir, f"thanks-{shot}")
        page.reload()
        expect(page.locator(".receipt-code__code")).to_have_count(0)  # shown once

        check_code(page, live_server, petition, language, code)
        expect(page.locator(".receipt__state")).to_contain_text(words["counted"])
        shoot(page, screenshot_dir, f"receipt-counted-{shot}")

        page.get_by_role("button", name=words["withdraw"], exact=True).click()
        shoot(page, screenshot_dir, f"withdraw-confirm-{shot}")
        assert SignatureCount.objects.total_for(petition.pk) == 2
        page.get_by_role("button", name=words["yes"], exact=True).click()
        expect(page.locator(".message--success")).to_be_visible()
        assert SignatureCount.objects.total_for(petition.pk) == 1

        check_code(page, live_server, petition, language, code)
        expect(page.locator(".receipt__state")).to_contain_text(words["withdrawn"])
        shoot(page, screenshot_dir, f"receipt-withdrawn-{shot}")

        check_code(page, live_server, petition, language, receipts.grouped(receipts.new_code()))
        expect(page.locator("h1")).to_have_count(1)
        shoot(page, screenshot_dir, f"receipt-unknown-{shot}")

        removed = make_signature(petition)
        removed_code = receipts.new_code()
        Signature.objects.filter(pk=removed.pk).update(receipt=receipts.digest(removed_code))
        Signature.objects.filter(pk=removed.pk).invalidate(
            by=make_staff(username=f"moderator-{shot}"), reason=Signature.Reason.AUTOMATED
        )
        check_code(page, live_server, petition, language, receipts.grouped(removed_code))
        expect(page.locator(".receipt__state")).to_contain_text(
            str(Signature.Reason.AUTOMATED.label) if language == "en" else "رباتی"
        )
        shoot(page, screenshot_dir, f"receipt-removed-{shot}")

        page.goto(f"{live_server.url}/{language}/p/{petition.slug}/")
        expect(page.locator(".counter__record a").first).to_have_attribute(
            "href", f"/{language}/p/{petition.slug}/record/"
        )
        page.locator(".counter__record").scroll_into_view_if_needed()
        page.screenshot(path=screenshot_dir / f"trust-petition-{shot}.png", animations="disabled")
        # Last, a page without scripts: no count.json poll left running as the test ends.
        page.goto(f"{live_server.url}/{language}/p/{petition.slug}/record/")
        expect(page.locator(".record__sum")).to_contain_text(words["record"])
        total = page.locator(".record__sum tfoot td").inner_text()
        assert total == ("1" if language == "en" else "۱")
        shoot(page, screenshot_dir, f"record-{shot}")
    finally:
        context.close()
