"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Nothing here downloads a browser. On a laptop without /usr/bin/chromium the tests skip; under CI
(CI=true) the same situation fails the run, so a broken image cannot pass with the browser tests
quietly skipped.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.npm import npm_install

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def _unavailable(reason: str):
    if _under_ci():
        pytest.fail(f"{reason} (CI is set, so a missing browser fails instead of skipping)")
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # tryfirst so the mark is already there when `-m browser` / `-m "not browser"` selects.
    # This hook sees the whole session's items, hence the folder check.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


# Package scope, not session: Playwright's sync API leaves an asyncio loop marked as running in
# this thread until it is stopped, and Django refuses ORM calls while one runs. Stopping it when
# this folder's last test ends keeps that guard intact for every other test in the suite.
@pytest.fixture(scope="package")
def browser():
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright for Python is not installed: {exc}")
    if not CHROMIUM.exists():
        _unavailable(f"No Chromium at {CHROMIUM}; install Debian's 'chromium' package")

    had_flag = "DJANGO_ALLOW_ASYNC_UNSAFE" in os.environ
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        try:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            _unavailable(f"Chromium at {CHROMIUM} would not start: {exc.message.splitlines()[0]}")
        yield launched
        launched.close()
    finally:
        playwright.stop()
        if not had_flag:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@contextmanager
def _fresh_page(browser, **options):
    # A fresh context per test: no cookies, storage or cache carried from one test to the next.
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", **options)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser):
    with _fresh_page(browser) as fresh:
        yield fresh


@pytest.fixture
def page_without_js(browser):
    """A reader whose browser runs no scripts: the page must still sign, count and switch."""
    with _fresh_page(browser, java_script_enabled=False) as fresh:
        yield fresh


@pytest.fixture(scope="session")
def test_output_dir() -> Path:
    configured = os.environ.get("TEST_OUTPUT_DIR", "").strip()
    folder = Path(configured).resolve() if configured else REPO_ROOT / "test-output"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def screenshot_dir(test_output_dir) -> Path:
    folder = test_output_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# axe-core comes from the npm registry into tests/browser/axe/node_modules (git-ignored), pinned by
# the package-lock.json beside it. The site never serves it: the tests evaluate it in the page.
AXE_DIR = HERE / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    npm_install(AXE_DIR, AXE_SCRIPT, _unavailable)
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture
def demo_petition(transactional_db):
    """The demo petition with 40 signatures, as a first reader meets it. Some test modules
    still define their own, which takes precedence there."""
    from petitions.demo.loader import load_demo

    return load_demo(signatures=40)


@pytest.fixture
def no_minimum_fill_time(settings):
    """Playwright types a form in milliseconds, which the sign form's minimum fill time refuses
    as a bot; that defence has its own tests (tests/test_abuse.py). The settings fixture changes
    the one settings object the live server's thread also reads."""
    settings.SIGN_MIN_FILL_SECONDS = 0


@pytest.fixture(autouse=True)
def _live_server_is_the_site(request):
    """Links that leave a page (oEmbed, sharing, emails) name SITE_URL: in a test
    with a live server, that server is the site."""
    if "live_server" not in request.fixturenames:
        return
    settings = request.getfixturevalue("settings")
    settings.SITE_URL = request.getfixturevalue("live_server").url


STICKING_OUT = """() => {
    const width = (document.scrollingElement || document.documentElement).clientWidth, found = [];
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width && (box.right > width + 0.5 || box.left < -0.5)
            && !el.closest('.visually-hidden, .hp, .skip-link')) {
            found.push(`${el.tagName.toLowerCase()}.${el.className} ` +
                       `[${Math.round(box.left)}, ${Math.round(box.right)}]`);
        }
    }
    return found.slice(-8);
}"""


def sticking_out(frame) -> list[str]:
    """The elements of a page or frame whose box pokes out past either side of its window, the
    innermost last: what a failure about a page too wide for its window names."""
    return frame.evaluate(STICKING_OUT)
