"""WCAG 2.2 AA with axe-core, in both languages, on every page a signer sees.

axe-core is installed from the npm registry into tests/browser/axe/ (see conftest.py) and evaluated
in the page by the test through the DevTools protocol, which the site's strict
Content-Security-Policy does not govern. The site itself never serves it.
"""

import re
import time

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from playwright.sync_api import expect

from signatures.counting import COUNT_CACHE_SECONDS
from signatures.models import SignatureCount
from tests.factories import make_petition, sign_form_data

# Every WCAG 2.0, 2.1 and 2.2 success criterion at levels A and AA that axe can test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
PAGES = [
    "home",
    "petition",
    "petition-errors",
    "thanks",
    "privacy",
    "widget",
    "widget-thanks",
    "badge",
]
LANGUAGES = ["en", "fa"]


@pytest.fixture(autouse=True)
def _fill_as_fast_as_a_robot(settings):
    # See test_signing_browser.py: the minimum fill time would refuse Playwright's typing.
    settings.SIGN_MIN_FILL_SECONDS = 0


def run_axe(page, axe_source) -> list[dict]:
    """axe's WCAG A/AA violations on the page as it stands now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated over CDP, not through a <script> element: the page's CSP does not apply.
        page.evaluate(axe_source)
    result = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        AXE_TAGS,
    )
    return result["violations"]


def summarise(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({len(violation['nodes'])} element(s))"
        )
        for node in violation["nodes"][:5]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines) or "none"


def count_by_impact(violations: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for violation in violations:
        counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
    return counts


def assert_no_serious_violations(page, axe_source, label: str) -> None:
    violations = run_axe(page, axe_source)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    print(f"axe {label}: {count_by_impact(violations) or 'no violations'}")
    assert not blocking, (
        f"axe found {len(blocking)} serious/critical WCAG violation(s) on {label} "
        f"({page.url}):\n{summarise(violations)}"
    )


def _open_page(page, live_server, petition, language: str, which: str) -> None:
    base = f"{live_server.url}/{language}"
    if which == "home":
        page.goto(f"{base}/")
    elif which == "privacy":
        page.goto(f"{base}/privacy/")
    elif which == "thanks":
        page.goto(f"{base}/p/{petition.slug}/thanks/")
    elif which == "petition":
        page.goto(f"{base}/p/{petition.slug}/")
        expect(page.locator("#id_name")).to_be_visible()
    elif which == "widget":
        page.goto(f"{base}/p/{petition.slug}/embed/")
        expect(page.locator("#id_name")).to_be_visible()
    elif which == "widget-thanks":
        page.goto(f"{base}/p/{petition.slug}/embed/thanks/")
    elif which == "badge":
        page.goto(f"{base}/p/{petition.slug}/badge/")
    elif which == "petition-errors":
        page.goto(f"{base}/p/{petition.slug}/")
        page.locator("#id_email").fill("not-an-email")
        with page.expect_navigation() as navigation:
            page.locator("form[data-sign-form] button[type=submit]").click()
        assert navigation.value.status == 400
        expect(page.locator("#form-errors")).to_be_visible()
    page.evaluate("document.fonts.ready.then(() => true)")
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("which", PAGES)
def test_axe_finds_no_serious_violations(
    page, live_server, transactional_db, axe_source, which, language
):
    from petitions.demo.loader import load_demo

    petition = load_demo(signatures=40)
    _open_page(page, live_server, petition, language, which)
    assert_no_serious_violations(page, axe_source, f"{which} ({language})")

    if which == "thanks":
        # The same page when the signature still waits for its email confirmation.
        page.goto(f"{live_server.url}/{language}/p/{petition.slug}/thanks/?check=email")
        assert_no_serious_violations(page, axe_source, f"thanks, check email ({language})")
    if which == "petition":
        # A petition nobody has signed yet shows a different counter sentence and no signers.
        empty = make_petition()
        page.goto(f"{live_server.url}/{language}/p/{empty.slug}/")
        assert_no_serious_violations(page, axe_source, f"empty petition ({language})")


@pytest.mark.django_db
def test_the_site_never_serves_axe(client):
    assert finders.find("axe.min.js") is None
    assert finders.find("axe-core/axe.min.js") is None
    for url in ("/static/axe.min.js", "/static/axe-core/axe.min.js", "/static/axe/axe.min.js"):
        assert client.get(url).status_code == 404, url
    static_dirs = [str(d) for d in settings.STATICFILES_DIRS]
    assert not any(re.search(r"tests|node_modules", d) for d in static_dirs), static_dirs


# --- What axe cannot judge: checked by hand in the browser. ---------------------------------------

# What the meter's label and value read as, per language.
METER = {
    "en": {"name": "Signatures towards the goal", "text": "{} of {}"},
    "fa": {"name": "امضاها تا رسیدن به هدف", "text": "{} از {}"},
}
NUMBERS = {
    "en": {52_222: "52,222", 52_223: "52,223", 75_000: "75,000"},
    "fa": {52_222: "۵۲٬۲۲۲", 52_223: "۵۲٬۲۲۳", 75_000: "۷۵٬۰۰۰"},
}
POLL = 6_100  # ms: the longest wait between two count polls at the base rate, with its jitter


def _sign_elsewhere(petition) -> None:
    """Another supporter signs from a different client: no cookies or page of ours involved."""
    response = Client().post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    assert response.status_code == 302, response.status_code
    # count.json shows it once its one-second cache has run out (in real time: the page's clock
    # is a fake one).
    time.sleep(COUNT_CACHE_SECONDS + 0.05)


def _next_poll(page) -> None:
    """Move the page's fake clock past the next count poll and wait for its answer."""
    with page.expect_response(lambda r: r.url.endswith("/count.json")):
        page.clock.run_for(POLL)


def _chromium_meters(page) -> list[dict]:
    """The meters in Chromium's own accessibility tree, as a screen reader is given them."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    meters = []
    for node in nodes:
        if node.get("ignored") or node.get("role", {}).get("value") != "meter":
            continue
        props = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
        meters.append(
            {
                "name": node.get("name", {}).get("value"),
                "value": node.get("value", {}).get("value"),
                "min": props.get("valuemin"),
                "max": props.get("valuemax"),
            }
        )
    return meters


@pytest.mark.parametrize("language", LANGUAGES)
def test_progress_bar_is_a_meter_with_its_value_in_the_page_language(
    page, live_server, transactional_db, language
):
    petition = make_petition(goal=75_000)
    SignatureCount.set_total(petition.pk, 52_222)
    page.clock.install()
    page.emulate_media(reduced_motion="reduce")  # the meter moves at once, not frame by frame
    page.goto(f"{live_server.url}/{language}/p/{petition.slug}/")

    words, digits = METER[language], NUMBERS[language]
    assert _chromium_meters(page) == [
        {"name": words["name"], "value": 52_222, "min": 0, "max": 75_000}
    ]
    meter = page.locator(".petition__sign meter")
    expected = words["text"].format(digits[52_222], digits[75_000])
    # The words come as the meter's description (aria-valuetext is not allowed on <meter>).
    expect(meter).to_have_accessible_description(expected)
    # The same words as the fallback content, for a browser that shows no meter.
    expect(meter).to_have_text(expected)

    # The page script keeps the value text in the same words when the count moves.
    _sign_elsewhere(petition)
    _next_poll(page)
    expect(meter).to_have_accessible_description(
        words["text"].format(digits[52_223], digits[75_000])
    )
    assert _chromium_meters(page)[0]["value"] == 52_223


def test_live_counter_is_announced_politely_and_at_most_once_a_minute(
    page, live_server, transactional_db
):
    petition = make_petition(goal=1000)  # nobody has signed: "Be the first to sign"
    page.clock.install()
    page.emulate_media(reduced_motion="reduce")  # no animation frames to wait for
    page.goto(f"{live_server.url}/fa/p/{petition.slug}/")

    line = page.locator(".petition__sign .counter__line")
    live = page.locator(".petition__sign [data-counter-announce]")
    expect(line).to_contain_text("نخستین امضاکننده باشید")
    expect(line.locator("[data-counter]")).to_have_count(0)
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text("")
    box = live.bounding_box()
    assert box and box["width"] <= 1 and box["height"] <= 1, f"live region is visible: {box}"
    # The number itself is not in a live region: its every tick would be read out.
    assert page.locator("[aria-live] [data-counter], [role=status] [data-counter]").count() == 0

    # The first signature turns the invitation into the count, singular.
    _sign_elsewhere(petition)
    _next_poll(page)
    expect(line.locator("[data-counter]")).to_have_text("۱")
    expect(line).to_contain_text("امضا کرده است")
    expect(line.locator("[data-goal-text]")).to_have_text("۱٬۰۰۰")
    # The second makes it plural.
    _sign_elsewhere(petition)
    _next_poll(page)
    expect(line.locator("[data-counter]")).to_have_text("۲")
    expect(line).to_contain_text("امضا کرده‌اند")
    # Both within the page's first minute: nothing is read out yet.
    expect(live).to_have_text("")

    page.clock.run_for(60_000)
    expect(live).to_have_text("امضاها تاکنون: ۲ از ۱٬۰۰۰.")

    # A change a few seconds later waits for its minute too.
    _sign_elsewhere(petition)
    _next_poll(page)
    expect(line.locator("[data-counter]")).to_have_text("۳")
    expect(live).to_have_text("امضاها تاکنون: ۲ از ۱٬۰۰۰.")
    page.clock.run_for(60_000)
    expect(live).to_have_text("امضاها تاکنون: ۳ از ۱٬۰۰۰.")


def _submit_with_errors(page, live_server, language: str):
    petition = make_petition()
    page.goto(f"{live_server.url}/{language}/p/{petition.slug}/")
    page.locator("#id_email").fill("not-an-email")
    with page.expect_navigation() as navigation:
        page.locator("form[data-sign-form] button[type=submit]").click()
    assert navigation.value.status == 400
    return petition


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_summary_takes_focus_and_links_to_its_fields(
    page, live_server, transactional_db, language
):
    _submit_with_errors(page, live_server, language)
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    assert summary.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    assert page.title().startswith("Error:" if language == "en" else "خطا:"), page.title()

    for field in ("id_name", "id_email"):
        control = page.locator(f"#{field}")
        expect(control).to_have_attribute("aria-invalid", "true")
        described_by = (control.get_attribute("aria-describedby") or "").split()
        assert f"{field}_error" in described_by, described_by
        expect(page.locator(f"#{field}_error")).to_be_visible()

    # Each line of the summary is a link that puts the cursor in its field.
    links = summary.locator("a")
    assert links.count() >= 2
    expect(links.first).to_have_attribute("href", "#id_name")
    expect(links.nth(1)).to_have_attribute("href", "#id_email")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the second link: the email
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#id_email")).to_be_focused()
    links.first.click()
    expect(page.locator("#id_name")).to_be_focused()


def test_error_summary_takes_focus_without_javascript(
    page_without_js, live_server, transactional_db
):
    _submit_with_errors(page_without_js, live_server, "fa")
    expect(page_without_js.locator("#form-errors")).to_be_focused()


# Interactive elements that must offer a 24 x 24 px target (WCAG 2.2, 2.5.8). Links inside a
# sentence are exempt by the criterion itself and are left out.
TARGETS = """() => {
    const found = [];
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
    for (const el of document.querySelectorAll(selector)) {
        if (el.closest('.hp, [hidden]')) continue;
        const box = el.getBoundingClientRect();
        if (!box.width && !box.height) continue;
        if (el.matches('.skip-link')) continue;  // shown, large, only on focus
        const parent = el.parentElement;
        const inSentence = el.tagName === 'A' && parent.matches('p')
            && parent.textContent.trim().length > el.textContent.trim().length + 1;
        if (inSentence) continue;
        found.push({
            what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`
                  + ` "${el.textContent.trim().slice(0, 30)}"`,
            width: Math.round(box.width * 10) / 10,
            height: Math.round(box.height * 10) / 10,
        });
    }
    return found;
}"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_touch_targets_are_at_least_24_px(page, live_server, transactional_db, language):
    from petitions.demo.loader import load_demo

    petition = load_demo(signatures=40)
    page.set_viewport_size({"width": 360, "height": 800})
    base = f"{live_server.url}/{language}"
    small = []
    for which in ("home", "petition-errors", "thanks", "privacy"):
        _open_page(page, live_server, petition, language, which)
        if which == "petition-errors":
            page.locator("details.optional-fields summary").click()
        targets = page.evaluate(TARGETS)
        assert targets, f"no targets found on {which}"
        small += [{**t, "page": which} for t in targets if t["width"] < 24 or t["height"] < 24]
    assert not small, f"targets under 24 x 24 px in {language} ({base}):\n" + "\n".join(
        map(str, small)
    )


# The palette in site.css, checked pair by pair where text or a control meets its background.
# Text needs 4.5:1 (1.4.3); focus rings, control borders and the meter's bar need 3:1 (1.4.11).
TEXT_PAIRS = [
    ("ink", "paper"),
    ("ink", "paper-soft"),
    ("ink", "error-soft"),
    ("ink-soft", "paper"),  # muted text: byline, help, "3 months ago"
    ("ink-soft", "paper-soft"),  # the footer and the sign panel
    ("accent-ink", "accent"),  # the red Sign button
    ("accent-ink", "accent-dark"),  # the same, hovered or already pressed
    ("accent", "paper"),  # field errors
    ("accent", "paper-soft"),  # field errors inside the sign panel
    ("focus", "paper"),  # links
    ("focus", "paper-soft"),  # links on the soft background: footer, summary, header
    ("focus", "error-soft"),  # the error summary's links
    ("paper", "ink"),  # the skip link and the copy button
    ("ok", "paper-soft"),
]
NON_TEXT_PAIRS = [
    ("focus", "paper"),
    ("focus", "paper-soft"),
    ("focus", "error-soft"),
    ("line-strong", "paper"),  # input and secondary button borders
    ("accent", "track"),  # the meter's filled part against its track
]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_palette_contrast():
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text(encoding="utf-8")
    palette = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\b", css))
    low = [
        f"{fg} on {bg}: {contrast(palette[fg], palette[bg]):.2f}:1 (needs {need})"
        for pairs, need in ((TEXT_PAIRS, 4.5), (NON_TEXT_PAIRS, 3.0))
        for fg, bg in pairs
        if contrast(palette[fg], palette[bg]) < need
    ]
    assert not low, "\n".join(low)
    # No colour outside the palette, where it would escape this check.
    loose = re.findall(r"^(?!\s*--)[^\n]*#[0-9a-fA-F]{3,6}\b", css, flags=re.MULTILINE)
    assert not loose, loose
