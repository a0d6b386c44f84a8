"""The share image: 1200×630 PNG per petition and language, Persian shaped right to
left, compared with a reference rendering a person checked by eye; served with cache headers and
made again at most every few minutes."""

import io
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageChops, ImageDraw, ImageFont, features

from petitions import share
from petitions.demo.loader import load_seed_data
from petitions.models import Petition
from tests.factories import make_petition, make_signature

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
# The demo petition's count on its seed page: fixed, so the rendering is the same every time.
COUNT = 52222
# Share of pixels allowed to differ (anti-aliasing between FreeType builds), and by how much.
MAX_DIFFERING = 0.005
LEVEL = 48


def screenshots() -> Path:
    configured = os.environ.get("TEST_OUTPUT_DIR", "").strip()
    folder = (Path(configured) if configured else ROOT / "test-output") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def demo_petition() -> Petition:
    data = load_seed_data()
    for key in ("signatures", "opened_at"):
        data.pop(key)
    return Petition(**data)


def differing_share(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    histogram = diff.histogram()
    return sum(histogram[LEVEL:]) / (a.width * a.height)


def test_pillow_shapes_with_raqm():
    assert features.check("raqm"), "Pillow needs libraqm/libfribidi to shape Persian"


@pytest.mark.parametrize("language", ["fa", "en"])
def test_share_image_matches_the_checked_reference(language):
    png = share.render(demo_petition(), language, COUNT)
    (screenshots() / f"share-image-{language}.png").write_bytes(png)
    image = Image.open(io.BytesIO(png))
    assert image.size == (1200, 630) and image.format == "PNG"
    reference = Image.open(REFERENCE / f"share-{language}.png")
    assert differing_share(image, reference) < MAX_DIFFERING


def test_persian_reference_is_shaped_not_letter_by_letter():
    """The reference itself is right: unshaped Persian (isolated letters, left to right) would
    differ from it by far more than the tolerance."""
    petition = demo_petition()
    shaped = Image.open(io.BytesIO(share.render(petition, "fa", COUNT)))
    naive = shaped.copy()
    draw = ImageDraw.Draw(naive)
    font = ImageFont.truetype(
        str(share.FONT_DIR / "Vazirmatn-Bold.ttf"), 64, layout_engine=ImageFont.Layout.BASIC
    )
    draw.rectangle((0, 110, 1200, 330), fill=share.BACKGROUND)
    draw.text((share.MARGIN, 124), petition.title_fa[:30], font=font, fill=share.INK)
    assert differing_share(naive, shaped) > 4 * MAX_DIFFERING


def test_share_image_changes_with_the_count():
    petition = demo_petition()
    assert share.render(petition, "en", COUNT) != share.render(petition, "en", COUNT + 1)


@pytest.mark.django_db
def test_share_image_is_served_with_cache_headers_and_made_once_per_window(client, monkeypatch):
    petition = make_petition()
    make_signature(petition)
    made = []
    real = share.render
    monkeypatch.setattr(share, "render", lambda *args: made.append(args) or real(*args))
    url = reverse("petitions:share_image", kwargs={"slug": petition.slug})
    with translation.override("fa"):
        url_fa = reverse("petitions:share_image", kwargs={"slug": petition.slug})
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert "public" in first["Cache-Control"] and "max-age=300" in first["Cache-Control"]
    assert "Set-Cookie" not in first
    make_signature(petition)
    second = client.get(url)
    assert second.content == first.content  # the same window: not made again
    client.get(url_fa)
    assert [args[1] for args in made] == ["en", "fa"]


@pytest.mark.django_db
def test_share_image_key_follows_time_windows_and_edits(settings):
    petition = make_petition()
    key = share.cache_key(petition, "en", now=1000.0)
    assert share.cache_key(petition, "en", now=1000.0 + settings.SHARE_IMAGE_SECONDS) != key
    assert share.cache_key(petition, "fa", now=1000.0) != key
    petition.title_en = "A new title"
    petition.save()
    assert share.cache_key(petition, "en", now=1000.0) != key


@pytest.mark.django_db
def test_petition_page_points_link_previews_at_the_share_image(client):
    petition = make_petition()
    with translation.override("fa"):
        html = client.get(petition.get_absolute_url()).content.decode()
    assert (
        f'<meta property="og:image" content="http://testserver/fa/p/{petition.slug}/share.png">'
        in html
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in html


@pytest.mark.django_db
def test_share_image_of_a_draft_is_not_found(client):
    petition = make_petition(status="draft")
    assert (
        client.get(reverse("petitions:share_image", kwargs={"slug": petition.slug})).status_code
        == 404
    )


def ink_in_title_band(png: bytes) -> int:
    """White (title-coloured) pixels where the title's first line is drawn."""
    band = Image.open(io.BytesIO(png)).convert("RGB").crop((0, 120, 1200, 215))
    return sum(1 for pixel in band.get_flattened_data() if pixel == (255, 255, 255))


@pytest.mark.parametrize("language", ["en", "fa"])
def test_an_emoji_the_font_cannot_draw_leaves_a_visible_mark_not_a_gap(language):
    petition = Petition(
        slug="trees", title_en="🌳🌳🌳", title_fa="🌳🌳🌳", summary_en="x", summary_fa="x", goal=10
    )
    png = share.render(petition, language, 1)
    (screenshots() / f"share-image-emoji-{language}.png").write_bytes(png)
    assert ink_in_title_band(png) > 200


@pytest.mark.django_db
def test_the_share_image_of_a_persian_only_petition_is_persian_at_an_english_address(client):
    petition = make_petition(
        original_language="fa", title_en="", summary_en="", letter_en="", addressed_to_en=""
    )
    make_signature(petition)
    with translation.override("en"):
        url = reverse("petitions:share_image", kwargs={"slug": petition.slug})
    png = client.get(url).content
    (screenshots() / "share-image-persian-only-at-en.png").write_bytes(png)
    assert png == share.render(petition, "fa", 1)
