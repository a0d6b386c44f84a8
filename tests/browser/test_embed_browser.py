"""The widget in a real browser, framed by a page of another site with third-party cookies
blocked: the host page embeds it from the oEmbed answer, a reader signs inside the
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

from petitions.snippets import WIDGET_HEIGHT, snippets
from signatures.models import Signature
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.factories import make_petition, make_staff


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0  # see test_signing_browser.py
    settings.SIGN_MIN_CLICK_SECONDS = 0


@contextmanager
def host_site(html: str, address: str = "127.0.0.1"):
    """Another site: a blog post at http://127.0.0.1:<port>/ (the petition is at localhost), or
    at another loopback address, which is another site again."""

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

    server = ThreadingHTTPServer((address, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{address}:{server.server_address[1]}/"
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


def loader_post(live_server, petition, language: str) -> str:
    """A blog post with the loader snippet, as the admin page gives it out."""
    found = {s.language: s for s in snippets(petition, live_server.url)}[language]
    return blog_post(str(found.loader))


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_loader_script_shows_the_widget_sized_to_its_content(
    cookieless_page, live_server, transactional_db, language
):
    petition = make_petition()
    with host_site(loader_post(live_server, petition, language)) as host:
        page = cookieless_page
        page.goto(host)
        frame = page.locator("iframe")
        expect(frame).to_have_attribute(
            "src", f"{live_server.url}/{language}/p/{petition.slug}/embed/"
        )
        widget = page.frame_locator("iframe")
        expect(widget.locator("#id_name")).to_be_visible()
        inner = next(f for f in page.frames if f.url.endswith("/embed/"))

        def heights():
            content = inner.evaluate(
                "() => Math.ceil(document.body.getBoundingClientRect().height)"
            )
            return round(frame.bounding_box()["height"]), content

        # The frame takes the height the widget reports, not the snippet's.
        page.wait_for_function(
            f"() => document.querySelector('iframe').style.height !== '{WIDGET_HEIGHT}px'"
        )
        outer, content = heights()
        assert abs(outer - content) <= 1, (outer, content)
        # Unfolding the optional fields makes the widget taller, and the frame follows.
        widget.locator("summary").click()
        expect(widget.locator("#id_locality")).to_be_visible()
        page.wait_for_function(f"() => document.querySelector('iframe').offsetHeight > {outer}")
        taller, content = heights()
        assert abs(taller - content) <= 1 and taller > outer

        widget.locator("#id_name").fill("Sara Karimi")
        widget.locator("#id_email").fill(f"loader-{language}@example.com")
        widget.locator("#id_country").select_option("GB")
        widget.locator("form[data-sign-form] button[type=submit]").click()
        expect(widget.locator(".counter__meter")).to_have_attribute("value", "1")
        # The thank-you state is shorter than the open form: the frame shrinks to it.
        page.wait_for_function(f"() => document.querySelector('iframe').offsetHeight < {taller}")
        thanks = next(f for f in page.frames if f.url.endswith("/embed/thanks/"))
        content = thanks.evaluate("() => Math.ceil(document.body.getBoundingClientRect().height)")
        assert abs(round(frame.bounding_box()["height"]) - content) <= 1

    signature = Signature.objects.get(petition=petition)
    assert signature.source == "widget:" + host.split("/")[2]


def test_a_frame_of_another_origin_cannot_resize_the_loaders_frame(
    cookieless_page, live_server, transactional_db
):
    """Only a message from our origin and from the loader's own frame moves its height."""
    petition = make_petition()
    forged = (
        '<iframe id="forger" srcdoc="<script>parent.postMessage('
        "{petitionEmbed: {height: 1234}}, '*')</script>\"></iframe>"
    )
    with host_site(loader_post(live_server, petition, "en") + forged) as host:
        page = cookieless_page
        page.goto(host)
        widget = page.frame_locator("iframe >> nth=0")
        expect(widget.locator("#id_name")).to_be_visible()
        page.wait_for_function(
            f"() => document.querySelector('iframe').style.height !== '{WIDGET_HEIGHT}px'"
        )
        page.evaluate("() => window.postMessage({petitionEmbed: {height: 999}}, '*')")
        page.wait_for_timeout(300)
        height = page.evaluate("() => document.querySelector('iframe').style.height")
        assert height not in ("1234px", "999px")


def test_a_returning_reader_signs_with_one_click_in_the_widget_on_the_same_site_only(
    cookieless_page, live_server, transactional_db
):
    """With third-party cookies blocked, the browser still keeps the widget's partitioned cookie
    for the site that framed it: the next petition on that site offers one click; a page on
    another site does not."""
    first, second = make_petition(), make_petition()
    with host_site(blog_post(embed_html(live_server, first))) as host:
        page = cookieless_page
        page.goto(host)
        widget = page.frame_locator("iframe")
        widget.locator("#id_name").fill("Sara Karimi")
        widget.locator("#id_email").fill("returning@example.com")
        widget.locator("#id_country").select_option("GB")
        widget.locator("form[data-sign-form] button[type=submit]").click()
        expect(widget.locator("h1")).to_have_text("Thank you for signing")

    with host_site(blog_post(embed_html(live_server, second))) as same_site:
        page.goto(same_site)
        widget = page.frame_locator("iframe")
        first_name = widget.get_by_label("To sign as Sara K., type your first name")
        expect(first_name).to_be_visible()
        first_name.fill("Sara")
        widget.get_by_role("button", name="Sign this petition").click()
        expect(widget.locator("h1")).to_have_text("Thank you for signing")
        expect(widget.locator(".counter__meter")).to_have_attribute("value", "1")

    signature = Signature.objects.get(petition=second)
    assert signature.email == "returning@example.com"
    assert signature.source == "widget:" + same_site.split("/")[2]

    # Another site is another partition: the reader is a stranger there.
    with host_site(blog_post(embed_html(live_server, make_petition())), "127.0.0.2") as elsewhere:
        page.goto(elsewhere)
        widget = page.frame_locator("iframe")
        expect(widget.locator("#id_name")).to_be_visible()
        expect(widget.locator("#id_first_name")).to_have_count(0)


HOSTILE_TITLES = {
    "en": 'Save the "Green" park\'s <script>alert(1)</script><img src=x onerror=alert(2)> & co 🌳',
    "fa": 'پارک «سبز» را نجات دهید "<script>alert(3)</script><img src=x onerror=alert(4)> & 🌳',
}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_embed_code_copied_from_the_admin_shows_a_hostile_title_as_text(
    cookieless_page, live_server, transactional_db, language
):
    """What the Copy buttons put on the clipboard, pasted into another site's page, is the
    widget with the title as text: no script of the title runs there."""
    petition = make_petition(title_en=HOSTILE_TITLES["en"], title_fa=HOSTILE_TITLES["fa"])
    make_staff()
    page = cookieless_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(
        f"{live_server.url}/admin/login/?next=/admin/petitions/petition/{petition.pk}/change/"
    )
    page.fill("#id_username", "organiser")
    page.fill("#id_password", "a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    copied = []
    for kind in ("iframe", "loader", "badge"):
        page.locator(f'[data-copy="#embed-{language}-{kind}"]').click()
        copied.append(page.evaluate("() => navigator.clipboard.readText()"))
        assert copied[-1] == page.locator(f"#embed-{language}-{kind}").input_value()

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with host_site(blog_post("\n".join(copied))) as host:
        page.goto(host)
        frames = page.locator("iframe")
        expect(frames).to_have_count(3)  # the frame, the one the loader makes, the badge
        for n in range(3):
            expect(frames.nth(n)).to_have_attribute("title", HOSTILE_TITLES[language])
        for n in (0, 1):
            expect(page.frame_locator(f"iframe >> nth={n}").locator("#id_name")).to_be_visible()
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # time for an injected onerror to fire
        assert page.locator("img").count() == 0
        assert page.locator("script").count() == 1  # the loader's own
    assert dialogs == []


def sign_once_in_a_widget_on(page, host: str) -> None:
    page.goto(host)
    widget = page.frame_locator("iframe")
    widget.locator("#id_name").fill("Sara Karimi")
    widget.locator("#id_email").fill("sara.clickjack@example.com")
    widget.locator("#id_country").select_option("IR")
    widget.locator("form[data-sign-form] button[type=submit]").click()
    expect(widget.locator("h1")).to_have_text("Thank you for signing")


def bait_page(widget_html: str) -> str:
    """A game whose button lies under the victim petition's widget, made all but invisible."""
    return f"""<!doctype html><title>A game</title>
<style>
  #bait {{ position: absolute; inset-block-start: 0; inset-inline-start: 0; inline-size: 400px;
          block-size: 560px; font-size: 2rem; }}
  iframe {{ position: absolute; inset-block-start: 0; inset-inline-start: 0; opacity: 0.0001;
           z-index: 2; border: 0; }}
</style>
<button id="bait">▶ Play the game</button>
{widget_html}"""


def test_an_invisible_widget_over_a_bait_button_signs_nothing_for_a_returning_reader(
    cookieless_page, live_server, transactional_db, settings
):
    """The clickjacking replay: a reader signed once in a widget on the attacker's site (another
    origin: 127.0.0.1, the petition is at localhost), which then lays the widget of a petition
    they never chose over its own button, at opacity 0.0001. Clicks and double clicks all over
    the bait land in the frame, and sign nothing."""
    settings.SIGN_MIN_CLICK_SECONDS = 0  # the typed first name alone must hold
    chosen, victim = make_petition(), make_petition()
    page = cookieless_page
    with host_site(blog_post(embed_html(live_server, chosen))) as attacker:
        sign_once_in_a_widget_on(page, attacker)
    with host_site(bait_page(embed_html(live_server, victim))) as attacker:
        page.goto(attacker)
        widget = page.frame_locator("iframe")
        expect(widget.locator("form.one-click")).to_be_attached()
        frame = page.locator("iframe").bounding_box()
        # The whole frame in view (it is taller than the default window), so every point is tried.
        page.set_viewport_size({"width": VIEWPORT["width"], "height": int(frame["height"]) + 40})
        for y in range(20, int(frame["height"]) - 10, 25):
            point = {"x": frame["x"] + frame["width"] / 2, "y": frame["y"] + y}
            # The element under the pointer is the invisible frame, not the bait.
            assert (
                page.evaluate(
                    "([x, y]) => document.elementFromPoint(x, y).tagName", [point["x"], point["y"]]
                )
                == "IFRAME"
            )
            page.mouse.click(point["x"], point["y"])
            page.mouse.dblclick(point["x"], point["y"])
        page.wait_for_load_state("load")

    assert not Signature.objects.filter(petition=victim).exists()
    assert Signature.objects.filter(petition=chosen).count() == 1


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_widget_leaves_room_between_the_progress_bar_and_the_form(
    page, live_server, transactional_db, language
):
    petition = make_petition()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/{language}/p/{petition.slug}/embed/")
    bar = page.locator(".counter__meter").bounding_box()
    label = page.locator("label[for=id_name]").bounding_box()
    assert label["y"] - (bar["y"] + bar["height"]) >= 12


SAVED_DETAILS = {"en": "Sign with your saved details", "fa": "امضا با مشخصات ذخیره‌شده"}
SIGN = {"en": "Sign this petition", "fa": "این کارزار را امضا کنید"}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_without_scripts_a_returning_reader_asks_for_the_widgets_one_click_and_types_their_name(
    browser, live_server, transactional_db, language
):
    """The widget is the same public form for everyone; without scripts its link to `?form`
    brings the returning reader's own box, which still signs only with the first name typed."""
    first, second = make_petition(), make_petition()
    context = browser.new_context(java_script_enabled=False, viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/{language}/p/{first.slug}/embed/")
        page.locator("#id_name").fill("Sara Karimi")
        page.locator("#id_email").fill("sara.nojs@example.com")
        page.locator("#id_country").select_option("GB")
        page.locator("form[data-sign-form] button[type=submit]").click()
        expect(page).to_have_url(f"{live_server.url}/{language}/p/{first.slug}/embed/thanks/")

        page.goto(f"{live_server.url}/{language}/p/{second.slug}/embed/")
        expect(page.locator("#id_name")).to_be_visible()
        page.get_by_role("link", name=SAVED_DETAILS[language]).click()
        expect(page.locator("#id_email")).to_have_count(0)
        page.locator("#id_first_name").fill("Sara")
        page.get_by_role("button", name=SIGN[language]).click()
        expect(page).to_have_url(f"{live_server.url}/{language}/p/{second.slug}/embed/thanks/")
    finally:
        context.close()
    assert Signature.objects.get(petition=second).email == "sara.nojs@example.com"
