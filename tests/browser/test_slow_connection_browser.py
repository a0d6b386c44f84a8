"""The Persian petition page and its widget on a slow connection with the web font blocked:
Chromium's own network emulation (DevTools Network.emulateNetworkConditions) at
400 kbit/s each way with 400 ms added to every round trip, and every font request refused by a
route, as a filter that drops the font host would. The page's title, summary and sign form must
show within 3 s of starting to load it, and signing must work, with scripts and without.

Timings are printed (pytest -s). On this shared machine they move with other work: a load runs
again, up to three times, when one misses the bound; measured, a load takes about 1.6 to 2.3 s
(uncompressed, as the live server sends it; nginx compresses in production).
"""

import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from signatures.models import Signature
from tests.browser.conftest import VIEWPORT

# Bytes a second: 400 kbit/s.
THROUGHPUT = 400_000 // 8
LATENCY_MS = 400
FIRST_RENDER_SECONDS = 3.0
ATTEMPTS = 3
FONT = re.compile(r"\.(woff2?|ttf|otf)(\?.*)?$")

pytestmark = pytest.mark.usefixtures("no_minimum_fill_time")


class PaintClock:
    """When Chromium first painted text or an image (its firstContentfulPaint lifecycle event),
    in seconds after it sent the request for the page: the DevTools protocol's own clock, which
    works with scripts off too."""

    def __init__(self, cdp):
        self.sent = self.painted = None
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Page.lifecycleEvent", self._lifecycle)
        cdp.send("Page.enable")
        cdp.send("Page.setLifecycleEventsEnabled", {"enabled": True})

    def _sent(self, event):
        if event.get("type") == "Document" and self.sent is None:
            self.sent = event["timestamp"]

    def _lifecycle(self, event):
        if event["name"] == "firstContentfulPaint" and self.painted is None:
            self.painted = event["timestamp"]

    def first_paint(self, page) -> float:
        # The event comes on the protocol's own schedule: give it a few seconds after load.
        for _tick in range(100):
            if self.painted is not None:
                return self.painted - self.sent
            page.wait_for_timeout(50)
        raise AssertionError("Chromium reported no first contentful paint")


def warm(url: str) -> None:
    """One unthrottled request first, as a deployment warms each new server before it takes
    traffic (deploy/): the test measures the connection, not a cold Python process."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the live server
        response.read()


def throttled_page(browser, *, javascript: bool):
    context = browser.new_context(viewport=VIEWPORT, locale="fa-IR", java_script_enabled=javascript)
    # Generous: every request costs at least a 400 ms round trip.
    context.set_default_timeout(30_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    clock = PaintClock(cdp)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": LATENCY_MS,
            "downloadThroughput": THROUGHPUT,
            "uploadThroughput": THROUGHPUT,
        },
    )
    blocked = []

    def refuse_font(route):
        blocked.append(route.request.url)
        route.abort("blockedbyclient")

    page.route(FONT, refuse_font)
    return context, page, blocked, clock


def load(page, clock, url: str, where: str) -> tuple[float, float]:
    """Open `url`; when the text and form were laid out, and when Chromium first painted."""
    started = time.monotonic()
    page.goto(url, wait_until="commit")
    title = page.locator("h1")
    expect(title).to_be_visible()
    expect(title).not_to_be_empty()
    for field in ("#id_name", "#id_email", "form[data-sign-form] button[type=submit]"):
        expect(page.locator(field)).to_be_visible()
    if where == "page":
        expect(page.locator(".petition__summary")).to_be_visible()
    shown = time.monotonic() - started
    page.wait_for_load_state("load")
    return shown, clock.first_paint(page)


@pytest.mark.parametrize(
    ("where", "javascript"),
    [("page", True), ("page", False), ("widget", True)],
    ids=["page", "page-without-scripts", "widget"],
)
def test_persian_page_shows_text_and_form_within_3s_on_a_slow_connection_and_signs(
    browser, live_server, demo_petition, where, javascript
):
    url = f"{live_server.url}/fa/p/{demo_petition.slug}/" + ("embed/" if where == "widget" else "")
    warm(url)
    # Up to three cold loads, each in a fresh context (nothing cached), until one meets the bound:
    # the page's own cost is what is tested, and one load slowed by other work on this shared
    # machine is not (the figures of every load are printed).
    for attempt in range(1, ATTEMPTS + 1):
        context, page, blocked, clock = throttled_page(browser, javascript=javascript)
        shown, painted = load(page, clock, url, where)
        print(
            f"\n{where}{'' if javascript else ' without scripts'}, load {attempt}: first "
            f"contentful paint {painted:.2f} s after the request, text and form laid out after "
            f"{shown:.2f} s; font requests refused: {len(blocked)}"
        )
        if max(shown, painted) <= FIRST_RENDER_SECONDS or attempt == ATTEMPTS:
            break
        context.close()
    try:
        assert painted <= FIRST_RENDER_SECONDS, f"first contentful paint at {painted:.2f} s"
        assert shown <= FIRST_RENDER_SECONDS, f"text and form took {shown:.2f} s"
        if where == "page":
            # The page asked for its font, was refused it, and drew the text without it.
            assert blocked, "the page never asked for its web font: nothing was blocked"
        if javascript:
            loaded_fonts = page.evaluate(
                "() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
            )
            assert loaded_fonts == []

        email = f"slow-{where}-{javascript}@example.com"
        page.locator("#id_name").fill("سارا کریمی")
        page.locator("#id_email").fill(email)
        # Iran is already chosen on a Persian page, and "show my name" starts unticked.
        expect(page.locator("#id_country")).to_have_value("IR")
        expect(page.locator("#id_show_name")).not_to_be_checked()
        page.locator("form[data-sign-form] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/thanks/$"))
        signature = Signature.objects.get(email=email)
        assert signature.country.code == "IR"
        assert signature.show_name is False
    finally:
        context.close()
