"""One set of real and nasty content through every output a person sees, in both languages, at a
phone's width and a desktop's: no script of the content runs, no page is wider than its window,
a pasted snippet shows its Sign button at its default size, the poster's QR code reads back as
the petition's address, the delivery pack keeps the Persian title's words in order and the share
image draws every character of the title. Screenshots of every surface go to
test-output/screenshots/matrix-*.png for a person to look at."""

import re
import shutil
import subprocess
from contextlib import contextmanager

import pytest
from django.utils import translation

from lib import audit
from petitions import delivery, mailing, share, starting
from petitions.models import DeliveryPack, Petition, Update
from petitions.snippets import snippets
from signatures import confirmation
from tests.browser.conftest import _under_ci, sticking_out
from tests.browser.test_embed_browser import blog_post, embed_html, host_site
from tests.factories import make_petition, make_signature, make_staff

pytestmark = pytest.mark.django_db(transaction=True)

ZWNJ = "\u200c"
TITLES = {
    "en": 'Save the "Green" park\'s <script>alert(1)</script><img src=x onerror=alert(2)> & co 🌳',
    "fa": f"پارک «سبز» را نجات دهید \"<script>alert(3)</script>' & 🌳 درخت{ZWNJ}ها",
}
LONG_NAME = "Bartholomew" * 9 + "x"  # 100 letters, no break opportunity
ARABIC_NAME = "علي كريمي"  # Arabic Yeh and Kaf, as a keyboard in the Gulf types them
ONION = "http://" + "p" * 56 + ".onion"
WIDTHS = {390: 844, 1366: 900}
LANGUAGES = ["en", "fa"]


def longest_letter(language: str) -> str:
    """A letter at the length limit, with a link-like word no line can hold."""
    limit = Petition._meta.get_field(f"letter_{language}").max_length
    paragraph = ("Please act now. " if language == "en" else "لطفاً اکنون اقدام کنید. ") * 20
    text = "https://example.org/" + "a" * 180 + "\n\n"
    while len(text) + len(paragraph) + 2 <= limit:
        text += paragraph.strip() + "\n\n"
    return text[:limit]


@pytest.fixture
def hostile(settings):
    settings.ONION_URL = ONION
    settings.SIGN_MIN_FILL_SECONDS = 0
    petition = make_petition(
        title_en=TITLES["en"],
        title_fa=TITLES["fa"],
        starter_name=LONG_NAME,
        starter_name_fa=ARABIC_NAME,
        starter_email="starter@example.com",
        starter_email_canonical="starter@example.com",
        addressed_to_en="The Minister & <b>co</b>",
        summary_en='A "summary" with <i>tags</i> & more.',
        letter_en=longest_letter("en"),
        letter_fa=longest_letter("fa"),
    )
    starting.confirm_email(petition)
    for name, language in (
        (LONG_NAME, "en"),
        (ARABIC_NAME, "en"),  # a right-to-left name on an English page
        ("Sara O'Neil <script>alert(5)</script>", "fa"),  # left-to-right on a Persian page
        ("مریم" * 25, "fa"),  # 100 Persian letters, one word
    ):
        make_signature(petition, name=name, language=language, locality="Kerman & <Co>")
    petition.refresh_from_db()
    return petition


# -- what every page must survive -----------------------------------------------------------------

INJECTED = """() => [...document.querySelectorAll('img[src="x"], [onerror], [onload], script')]
    .filter(el => el.tagName !== 'SCRIPT' || /alert\\(/.test(el.textContent))
    .map(el => el.outerHTML.slice(0, 80))"""

WIDER = """() => {
    const root = document.scrollingElement || document.documentElement;
    return root.scrollWidth > root.clientWidth ? [root.scrollWidth, root.clientWidth] : null;
}"""


@contextmanager
def watched(page):
    """Every dialog a script opens, in the page or any of its frames."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield dialogs


def check(page, screenshot_dir, name: str, dialogs: list) -> list[str]:
    """What is wrong with the page as it is shown now: a script that ran, an element the content
    injected, a document or frame wider than its window. Saves the screenshot either way."""
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(150)  # time for an injected onerror to fire
    page.screenshot(path=str(screenshot_dir / f"matrix-{name}.png"), full_page=True)
    problems = [f"{name}: a dialog opened: {message}" for message in dialogs]
    for frame in page.frames:
        if frame.url.startswith(("chrome-error:", "about:")) and frame != page.main_frame:
            continue
        injected = frame.evaluate(INJECTED)
        if injected:
            problems.append(f"{name} {frame.url}: injected {injected}")
        wider = frame.evaluate(WIDER)
        if wider:
            widths = "{}px in {}px".format(*wider)
            problems.append(f"{name} {frame.url}: wider than its window, {widths}: ")
            problems[-1] += ", ".join(sticking_out(frame))
    return problems


def visit_at_every_width(page, screenshot_dir, name: str, url: str | None = None) -> list[str]:
    problems = []
    with watched(page) as dialogs:
        for width, height in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            if url:
                page.goto(url)
            else:
                page.reload()
            page.wait_for_load_state("load")
            problems += check(page, screenshot_dir, f"{name}-{width}", dialogs)
    return problems


# -- the public pages -----------------------------------------------------------------------------

PAGES = {
    "petition": "/p/{slug}/",
    "thanks": "/p/{slug}/thanks/",
    "thanks-check-email": "/p/{slug}/thanks/?check=email",
    "widget": "/p/{slug}/embed/",
    "widget-thanks": "/p/{slug}/embed/thanks/",
    "badge": "/p/{slug}/badge/",
    "poster": "/p/{slug}/poster/",
    "privacy": "/privacy/",
    "home": "/",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("surface", PAGES)
def test_public_pages_show_hostile_content_as_text_within_the_window(
    page, live_server, hostile, screenshot_dir, surface, language
):
    url = f"{live_server.url}/{language}" + PAGES[surface].format(slug=hostile.slug)
    problems = visit_at_every_width(page, screenshot_dir, f"{surface}-{language}", url)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_starters_page_shows_hostile_content_within_the_window(
    page, live_server, hostile, screenshot_dir, language
):
    token = starting.make_token(hostile)
    page.goto(f"{live_server.url}/{language}/start/link/{token}/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/my/{hostile.slug}/")
    problems = visit_at_every_width(page, screenshot_dir, f"starter-page-{language}")
    assert not problems, "\n".join(problems)


ADMIN_PAGES = {
    "petition-list": "petitions/petition/",
    "petition-change": "petitions/petition/{pk}/change/",
    "signature-list": "signatures/signature/",
    "update-list": "petitions/update/",
    "delivery-pack-list": "petitions/deliverypack/",
    "audit-log": "lib/auditentry/",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_admin_shows_hostile_content_as_text_within_the_window(
    page, live_server, hostile, screenshot_dir, language
):
    Update.objects.create(
        petition=hostile,
        title_en=TITLES["en"],
        title_fa=TITLES["fa"],
        body_en=TITLES["en"],
        body_fa=TITLES["fa"],
    )
    DeliveryPack.objects.create(petition=hostile)
    audit.record(
        LONG_NAME, audit.Action.PETITION_REJECTED, hostile, reason="other", note=TITLES["en"]
    )
    make_staff()
    page.goto(f"{live_server.url}/{language}/admin/login/")
    page.fill("#id_username", "organiser")
    page.fill("#id_password", "a-long-test-password")
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/admin/")
    problems = []
    for name, path in ADMIN_PAGES.items():
        url = f"{live_server.url}/admin/" + path.format(pk=hostile.pk)
        problems += visit_at_every_width(page, screenshot_dir, f"admin-{name}-{language}", url)
        assert page.url == url, f"{url} showed {page.url}"
    assert not problems, "\n".join(problems)


# -- emails, shown as the web page a mail client makes of them ----------------------------------


def emails(petition: Petition, mailbox) -> dict[str, str]:
    """The HTML part of every email the site sends about this petition."""
    signature = petition.signatures.first()
    found = {"confirm": confirmation.confirmation_email(signature)}
    found["start-link"] = starting.links_email([petition], "en", "start")
    found["start-outcome"] = starting.outcome_email(petition)
    html = {name: message.alternatives[0][0] for name, message in found.items()}
    petition.signatures.update(consent_contact=True)
    update = Update.objects.create(
        petition=petition,
        title_en=TITLES["en"],
        title_fa=TITLES["fa"],
        body_en=TITLES["en"],
        body_fa=TITLES["fa"],
        email_signers=True,
    )
    mailing.approve(update, by=make_staff())
    for message in mailbox.messages:
        body = message.get_body(preferencelist=("html",)).get_content()
        html[f"update-{message['Content-Language']}"] = body
    return html


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_email_shows_hostile_content_as_text_within_the_window(
    page, live_server, hostile, screenshot_dir, mailbox, language
):
    hostile.starter_language = language
    hostile.save(update_fields=["starter_language"])
    with translation.override(language):
        bodies = emails(hostile, mailbox)
    assert {"update-en", "update-fa"} <= set(bodies)
    problems = []
    for name, body in bodies.items():
        if name.startswith("update-") and name != f"update-{language}":
            continue
        with host_site(body) as host:
            problems += visit_at_every_width(page, screenshot_dir, f"email-{name}-{language}", host)
    assert not problems, "\n".join(problems)


# -- the embed code, pasted into another site's page --------------------------------------------

SIGN_BUTTONS = {
    "iframe": "form[data-sign-form] button[type=submit]",
    "loader": "form[data-sign-form] button[type=submit]",
    "badge": ".button--sign",
    "oembed": "form[data-sign-form] button[type=submit]",
}


def sign_button_shown(page) -> list[str]:
    """Each frame's Sign button lies inside the frame's own window, without scrolling in it."""
    hidden = []
    for frame in page.frames[1:]:
        selector = SIGN_BUTTONS["badge"] if "/badge/" in frame.url else SIGN_BUTTONS["iframe"]
        frame.wait_for_selector(selector, state="attached")
        bottom, window = frame.evaluate(
            """selector => [document.querySelector(selector).getBoundingClientRect().bottom,
                            document.documentElement.clientHeight]""",
            selector,
        )
        if bottom > window:
            hidden.append(f"{frame.url}: the Sign button ends at {bottom:.0f}px of {window}px")
    return hidden


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", SIGN_BUTTONS)
def test_each_snippet_pasted_on_another_site_shows_its_sign_button_and_no_script_of_the_title(
    page, live_server, hostile, screenshot_dir, kind, language
):
    if kind == "oembed":
        embed = embed_html(live_server, hostile, language)
    else:
        found = {s.language: s for s in snippets(hostile, live_server.url)}[language]
        embed = str(getattr(found, kind))
    problems = []
    with host_site(blog_post(embed)) as host, watched(page) as dialogs:
        for width, height in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.goto(host)
            page.wait_for_load_state("load")
            if kind == "loader":
                page.wait_for_function(
                    "() => document.querySelector('iframe')?.style.height.endsWith('px')"
                )
            page.wait_for_timeout(300)
            problems += sign_button_shown(page)
            problems += check(page, screenshot_dir, f"host-{kind}-{language}-{width}", dialogs)
    assert not problems, "\n".join(problems)


# -- images and documents -----------------------------------------------------------------------


def debian_tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if _under_ci():
        pytest.fail(f"{name} is missing: .ci/run installs Debian's {package}")
    pytest.skip(f"{name} is missing (Debian's {package})")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_posters_qr_code_reads_as_the_petitions_address(
    page, live_server, hostile, screenshot_dir, tmp_path, language
):
    zbarimg = debian_tool("zbarimg", "zbar-tools")
    with translation.override(language):
        address = live_server.url + hostile.get_absolute_url()
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/{language}/p/{hostile.slug}/poster/")
        shot = tmp_path / f"poster-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        read = subprocess.run(
            [zbarimg, "--quiet", "--raw", str(shot)], capture_output=True, text=True, timeout=30
        )
        assert read.stdout.split() == [address], f"{width}px: {read.stdout or read.stderr}"


def words(text: str) -> list[str]:
    # Letters and digits only: where a PDF reader puts the quotes and brackets between a Latin
    # run and Persian words is its own guess; the order of the words is what a reader needs.
    return re.findall(r"\w+", text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_delivery_pack_has_the_titles_words_in_reading_order(
    hostile, settings, tmp_path, language
):
    pdftotext = debian_tool("pdftotext", "poppler-utils")
    settings.DELIVERY_PACK_ROOT = str(tmp_path)
    pack = DeliveryPack.objects.create(petition=hostile)
    pdf = tmp_path / "pack.pdf"
    delivery.build(pack, pdf_path=pdf, csv_path=tmp_path / "pack.csv")
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    flat = " ".join(words(text))
    expected = " ".join(words(TITLES[language]))
    assert expected in flat, f"{expected!r} not in the pack's text: {flat[:600]!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_share_image_draws_every_character_of_the_title(hostile, screenshot_dir, language):
    """A character the font cannot draw (an emoji) is shown as a visible mark, never silently
    left out: a title of any one of its characters makes another image than an empty title."""
    (screenshot_dir / f"matrix-share-{language}.png").write_bytes(
        share.render(hostile, language, 4)
    )
    field = f"title_{language}"

    def drawn(title: str) -> bytes:
        setattr(hostile, field, title)
        return share.render(hostile, language, 4)

    nothing = drawn("")
    dropped = [c for c in sorted(set(TITLES[language]) - {" ", ZWNJ}) if drawn(c) == nothing]
    assert not dropped, f"the share image drops {dropped}"
