"""The widget in a real browser, framed by a page of another site with third-party cookies
blocked (issue 17): the host page embeds it from the oEmbed answer, a reader signs inside the
frame, the count moves, and the signature names the host site; a petition restricted to other
sites is refused by the browser."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from signatures.models import Signature
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.factories import make_petition


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0  # see test_signing_browser.py


@contextmanager
def host_site(html: str):
    """Another site: a blog post at http://127.0.0.1:<port>/ (the petition is at localhost)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cookieless_page(browser):
    """Chromium with third-party cookies blocked, as more and more browsers ship."""
    blocking = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
    )
    context = blocking.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
        blocking.close()


def embed_html(live_server, petition, language="en") -> str:
    page_url = f"{live_server.url}/{language}/p/{petition.slug}/"
    query = urlencode({"url": page_url, "format": "json"})
    with urlopen(f"{live_server.url}/oembed?{query}") as response:  # noqa: S310 - our live server
        return json.load(response)["html"]


def blog_post(embed: str) -> str:
    return f"<!doctype html><title>A blog</title><h1>News</h1>{embed}<p>More news.</p>"


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_reader_signs_in_the_widget_on_another_site_with_third_party_cookies_blocked(
    cookieless_page, live_server, transactional_db, language
):
    petition = make_petition()
    with host_site(blog_post(embed_html(live_server, petition, language))) as host:
        page = cookieless_page
        page.goto(host)
        widget = page.frame_locator("iframe")
        expect(widget.locator(".counter__meter")).to_have_attribute("value", "0")
        widget.locator("#id_name").fill("Sara Karimi")
        widget.locator("#id_email").fill("framed@example.com")
        widget.locator("#id_country").select_option("GB")
        widget.locator("form[data-sign-form] button[type=submit]").click()
        expect(widget.locator("h1")).to_have_text(
            "Thank you for signing" if language == "en" else "از امضای شما سپاسگزاریم"
        )
        expect(widget.locator(".counter__meter")).to_have_attribute("value", "1")

    signature = Signature.objects.get(petition=petition)
    assert signature.email == "framed@example.com"
    assert signature.source == "widget:" + host.split("/")[2]


def test_a_widget_restricted_to_other_sites_is_refused_by_the_browser(
    cookieless_page, live_server, transactional_db
):
    listed = make_petition(embed_sites="https://news.example.org")
    anywhere = make_petition()
    embeds = embed_html(live_server, listed) + embed_html(live_server, anywhere)
    with host_site(blog_post(embeds)) as host:
        page = cookieless_page
        page.goto(host)
        refused, shown = (
            page.frame_locator("iframe >> nth=0"),
            page.frame_locator("iframe >> nth=1"),
        )
        expect(shown.locator("#id_name")).to_be_visible()
        page.wait_for_load_state("load")  # every frame has finished, the refused one too
        expect(refused.locator("#id_name")).to_have_count(0)
        # Chromium replaces a frame its frame-ancestors refuses with an error page.
        urls = sorted(frame.url for frame in page.frames[1:])
        assert urls == [
            "chrome-error://chromewebdata/",
            f"{live_server.url}/en/p/{anywhere.slug}/embed/",
        ]
