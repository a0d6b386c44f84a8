"""The webhook endpoint form, the test event's result and the delivery log, in a real browser at
a phone's width and a laptop's, in both languages, with hostile text."""

import pytest
from django.conf import settings

from integrations.models import Delivery, Event
from tests.browser.conftest import sticking_out
from tests.browser.test_admin_browser import shoot, sign_in
from tests.factories import make_endpoint, make_petition, make_staff
from tests.webhook_receiver import Receiver

HOSTILE_TITLE = 'Stop "them" <script>alert(1)</script> 🚀 كيك يي'
LONG_NAME = "ي" * 50 + "k" * 50


@pytest.fixture
def endpoint(transactional_db, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    make_staff(username="moderator")
    petition = make_petition(title_en=HOSTILE_TITLE, title_fa=HOSTILE_TITLE)
    endpoint = make_endpoint(
        petition,
        description=LONG_NAME,
        url="https://crm.example.org/hooks/" + "a" * 80,
        events=[Event.SIGNATURE_COUNTED, Event.SIGNATURE_ERASED, Event.THRESHOLD_REACHED],
    )
    for attempts, state, code, error in [
        (1, Delivery.State.DELIVERED, 204, ""),
        (4, Delivery.State.QUEUED, 500, "500 Internal Server Error: " + "<b>oops</b> " * 20),
        (14, Delivery.State.FAILED, None, "no answer within 10 s"),
    ]:
        Delivery.objects.create(
            endpoint=endpoint, event=Event.SIGNATURE_COUNTED, key=f"k{attempts}",
            subject_id=attempts, occurred_at=endpoint.created_at, attempts=attempts, state=state,
            status_code=code, error=error,
        )  # fmt: skip
    return endpoint


def overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("width", [390, 1366])
def test_webhook_admin_pages_fit_and_show_the_test_result(
    page, live_server, endpoint, screenshot_dir, language, width
):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, language)
    admin = f"{live_server.url}/{settings.ADMIN_URL}integrations/"
    pages = {
        "endpoint-add": f"{admin}endpoint/add/",
        "endpoint-list": f"{admin}endpoint/",
        "endpoint-edit": f"{admin}endpoint/{endpoint.pk}/change/",
        "delivery-log": f"{admin}delivery/",
    }
    for name, url in pages.items():
        page.goto(url)
        assert "<script>alert" not in page.content()
        shoot(page, screenshot_dir, f"webhooks-{name}-{width}-{language}")
        assert overflow(page) <= 0, (name, sticking_out(page))
    with Receiver(answers=[200]) as receiver:
        page.goto(pages["endpoint-edit"])
        page.fill("#id_url", receiver.url)
        page.click("input[name=_continue]")
        page.click(".webhook-ping input[type=submit]")
        page.wait_for_selector(".messagelist")
    assert len(receiver.received) == 1
    assert page.locator(".messagelist .success").count() == 1
    shoot(page, screenshot_dir, f"webhooks-test-result-{width}-{language}")
    assert overflow(page) <= 0, sticking_out(page)
