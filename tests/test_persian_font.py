"""The Persian face covers the spaces and punctuation between Persian words, and Persian pages
preload it."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.html import elements

FONT = "fonts/vazirmatn-variable.subset.woff2"


def unicode_ranges(css: str) -> list[tuple[int, int]]:
    face = re.search(r"@font-face\s*{[^}]*Vazirmatn[^}]*}", css, re.S).group(0)
    declared = re.search(r"unicode-range:([^;]+);", face).group(1)
    ranges = []
    for part in declared.split(","):
        first, _dash, last = part.strip().removeprefix("U+").partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return ranges


@pytest.mark.parametrize("css", ["static/css/site.css", "static/admin-extra/admin.css"])
def test_persian_face_covers_basic_latin_and_persian(css):
    ranges = unicode_ranges((Path(settings.BASE_DIR) / css).read_text())

    def covered(ch: str) -> bool:
        return any(first <= ord(ch) <= last for first, last in ranges)

    for ch in " .,:;!?()-0123456789«»\u200c،؛؟یکگپچژ۰۹":
        assert covered(ch), repr(ch)


def test_font_display_swap():
    css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()
    assert "font-display: swap" in re.search(r"@font-face\s*{[^}]*}", css, re.S).group(0)


@pytest.mark.django_db
def test_persian_pages_preload_the_font_and_english_pages_do_not(client):
    persian = client.get("/fa/").content.decode()
    preloads = elements(persian, "link", rel="preload")
    assert len(preloads) == 1
    assert preloads[0]["as"] == "font" and preloads[0]["type"] == "font/woff2"
    assert preloads[0]["href"].endswith(".woff2") and "vazirmatn" in preloads[0]["href"]
    assert "crossorigin" in preloads[0]  # fonts are fetched in CORS mode: without it, twice
    assert elements(client.get("/en/").content.decode(), "link", rel="preload") == []


def test_fonts_readme_says_what_the_css_does():
    readme = (Path(settings.BASE_DIR) / "static/fonts/README.md").read_text()
    assert "Basic Latin" in readme and "preload" in readme
    assert "omits them" not in readme
