"""The public pages are valid HTML by the Nu HTML Checker, in both languages.

vnu.jar comes from the npm registry's `vnu-jar` package into tests/vnu/node_modules (git-ignored),
pinned by the package-lock.json beside it, the way the browser tests get axe-core; it needs a Java
runtime (.ci/run installs one). On a laptop without npm or Java the test skips; under CI it fails.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from petitions import thresholds
from petitions.models import Threshold
from signatures import paper, supporter
from signatures.models import Signature
from tests.conftest import running_in_ci
from tests.factories import make_petition, make_signature
from tests.npm import npm_install

pytestmark = pytest.mark.system

VNU_DIR = Path(__file__).resolve().parent / "vnu"
VNU_JAR = VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
LANGUAGES = ("en", "fa")


def _unavailable(reason: str):
    if running_in_ci():
        pytest.fail(f"{reason} (CI is set, so the HTML checker cannot be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def vnu() -> list[str]:
    java = shutil.which("java")
    if java is None:
        _unavailable(
            "no Java runtime for the Nu HTML Checker (apt-get install default-jre-headless)"
        )
    npm_install(VNU_DIR, VNU_JAR, _unavailable)
    return [java, "-Xss2m", "-jar", str(VNU_JAR)]


def check(vnu: list[str], pages: dict[str, str], folder: Path) -> list[str]:
    """Every error the checker finds in these pages, as 'page:line: message' (one JVM run)."""
    for name, html in pages.items():
        (folder / f"{name}.html").write_text(html, encoding="utf-8")
    result = subprocess.run(
        [*vnu, "--format", "json", "--errors-only", *(str(folder / f"{n}.html") for n in pages)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(result.stderr or result.stdout)
    return [
        f"{Path(m.get('url', '')).stem}:{m.get('lastLine')}: {m['message']}"
        for m in report["messages"]
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]


@pytest.mark.django_db
def test_public_pages_are_valid_html_in_both_languages(client, vnu, tmp_path):
    petition = make_petition(slug="free-press", opened_at=None)
    for n in range(3):
        make_signature(petition, name=f"Sara Karimi {n}", locality="Tehran", show_name=True)
    # So that the record has a day's changes to show.
    Signature.objects.filter(name="Sara Karimi 0").invalidate(by="test")
    # Thresholds on the bar, one reached and awaiting its response, one beyond the goal.
    for number in (2, 100_000):
        Threshold.objects.create(
            number=number, consequence_en="a written response", owes_response=True
        )
    thresholds.record_reached()
    # Paper in the count: the counter's "online and on paper" line and the record's paper lines.
    paper.enter_count(petition, count=40, description="Book fair «نمایشگاه»", by="test")
    pages = {}
    for language in LANGUAGES:
        for name, path in (
            ("home", f"/{language}/"),
            ("petition", f"/{language}/p/{petition.slug}/"),
            ("widget", f"/{language}/p/{petition.slug}/embed/"),
            ("list", f"/{language}/petitions/?q=press"),
            ("awaiting", f"/{language}/awaiting-response/"),
            ("thanks", f"/{language}/p/{petition.slug}/thanks/"),
            ("privacy", f"/{language}/privacy/"),
            ("api", f"/{language}/api/"),
            ("receipt", f"/{language}/p/{petition.slug}/receipt/"),
            ("record", f"/{language}/p/{petition.slug}/record/"),
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            pages[f"{name}-{language}"] = response.content.decode()
    assert check(vnu, pages, tmp_path) == []


@pytest.mark.django_db
def test_one_click_and_already_signed_pages_are_valid_html(client, vnu, tmp_path):
    petition, other = make_petition(), make_petition()
    remembered = supporter.Supporter(
        name="Sara Karimi", email="sara@example.com", country="IR", signed=(petition.pk,)
    )
    response = client.get("/")
    supporter.remember(response, remembered)
    client.cookies[supporter.COOKIE_NAME] = response.cookies[supporter.COOKIE_NAME].value
    pages = {
        f"{state}-{language}": client.get(f"/{language}/p/{p.slug}/").content.decode()
        for language in LANGUAGES
        for state, p in (("already-signed", petition), ("one-click", other))
    }
    assert check(vnu, pages, tmp_path) == []


@pytest.mark.django_db
def test_the_supporters_pages_are_valid_html(client, vnu, tmp_path, settings):
    from petitions import cosponsors
    from tests.factories import as_starter, make_cosponsor, make_gathering_petition

    settings.COSPONSORS_REQUIRED = 5
    petition = make_gathering_petition()
    make_cosponsor(petition)
    as_starter(client, petition)
    pages = {}
    for language in LANGUAGES:
        for name, path in (
            ("mine", f"/{language}/my/{petition.slug}/"),
            ("supporters", cosponsors.link_path(petition, language)),
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            pages[f"{name}-{language}"] = response.content.decode()
    assert check(vnu, pages, tmp_path) == []
