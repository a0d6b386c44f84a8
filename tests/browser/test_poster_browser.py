"""The printed poster's QR code scans: Chromium renders the poster on a phone, on a laptop and
printed to an A4 PDF, and zbarimg (Debian's zbar-tools) must read the petition's address back
from each picture."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from tests.conftest import running_in_ci
from tests.factories import make_petition, make_signature

HOSTILE_TITLE = 'Save the "Green" park\'s <script>alert(1)</script> & co 🌳\u200cها'


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        if running_in_ci():
            pytest.fail(f"{name} ({package}) is missing; .ci/run installs it")
        pytest.skip(f"needs {name}: apt-get install {package}")
    return path


def decoded(png: Path) -> list[str]:
    """Every QR code zbarimg finds in the picture, as text."""
    out = subprocess.run(
        [tool("zbarimg", "zbar-tools"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", png],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [line for line in out.stdout.splitlines() if line]


@pytest.fixture
def petition(transactional_db):
    petition = make_petition(title_en=HOSTILE_TITLE, title_fa=HOSTILE_TITLE)
    make_signature(petition, name="A" * 100)
    return petition


def address(petition, language: str) -> str:
    with translation.override(language):
        return settings.SITE_URL + petition.get_absolute_url()


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("width", [390, 1366])
def test_the_posters_qr_code_decodes_to_the_petition_on_screen(
    browser, live_server, petition, screenshot_dir, language, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/{language}/p/{petition.slug}/poster/")
        png = screenshot_dir / f"poster-{language}-{width}.png"
        page.screenshot(path=str(png), full_page=True)
    finally:
        context.close()
    assert decoded(png) == [address(petition, language)]


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_posters_qr_code_decodes_to_the_petition_when_printed(
    browser, live_server, petition, screenshot_dir, language
):
    pdftoppm = tool("pdftoppm", "poppler-utils")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/{language}/p/{petition.slug}/poster/")
        pdf = screenshot_dir / f"poster-{language}-print.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
    finally:
        context.close()
    prefix = screenshot_dir / f"poster-{language}-print"
    subprocess.run(
        [pdftoppm, "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", pdf, prefix],
        check=True,
        timeout=60,
    )
    assert decoded(prefix.with_suffix(".png")) == [address(petition, language)]
