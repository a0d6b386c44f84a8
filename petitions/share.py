"""The share links and the 1200×630 share image; Persian is shaped by Pillow's Raqm layout."""

import io
import time
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageDraw, ImageFont, features

from lib import cache
from lib.persian import format_number
from signatures import counting

from .delivery import FONT_DIR, drawable
from .models import Petition, text_direction

SIZE = (1200, 630)
MARGIN = 72
BACKGROUND = "#14365d"
INK = "#ffffff"
MUTED = "#c9d6e8"
BAR = "#2e5a8a"
FILL = "#f2b134"
TITLE_SIZES = (64, 56, 48, 42)  # the largest that fits in TITLE_LINES lines
TITLE_LINES = 3


def share_links(url: str, title: str) -> list[dict]:
    """Plain links to each network's own share page: no scripts of theirs on our pages."""
    u, t = quote(url, safe=""), quote(title, safe="")
    body = quote(f"{title}\n\n{url}", safe="")
    return [
        {"name": "X", "url": f"https://twitter.com/intent/tweet?text={t}&url={u}"},
        {"name": "Facebook", "url": f"https://www.facebook.com/sharer/sharer.php?u={u}"},
        {"name": "WhatsApp", "url": f"https://wa.me/?text={t}%20{u}"},
        {"name": "Telegram", "url": f"https://t.me/share/url?url={u}&text={t}"},
        {"name": _("Email"), "url": f"mailto:?subject={t}&body={body}"},
    ]


class ShapingUnavailable(RuntimeError):
    """Pillow was built without libraqm: Persian would come out unjoined and in the wrong order."""


@lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    if not features.check("raqm"):
        raise ShapingUnavailable("Pillow has no Raqm layout (install libraqm and libfribidi)")
    name = "Vazirmatn-Bold.ttf" if bold else "Vazirmatn-Regular.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size, layout_engine=ImageFont.Layout.RAQM)


def wrap(draw: ImageDraw.ImageDraw, text: str, face, width: int, direction: str) -> list[str]:
    """Words into lines no wider than `width`, measured as shaped."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=face, direction=direction) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def render(petition: Petition, language: str, count: int) -> bytes:
    """The PNG for `count` signatures; the same bytes for the same petition, language and count."""
    text = petition.in_language(language)
    direction = text_direction(language)
    rtl = direction == "rtl"
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = SIZE[0] - 2 * MARGIN
    start, anchor_x = (SIZE[0] - MARGIN, "r") if rtl else (MARGIN, "l")

    def write(y: int, line: str, face, fill: str, line_direction: str = direction) -> None:
        draw.text(
            (start, y),
            line,
            font=face,
            fill=fill,
            anchor=f"{anchor_x}a",
            direction=line_direction,
            language=language,
        )

    with translation.override(language):
        site = _("Petitions")
        title = drawable(text.title.value)
        title_direction = text.title.dir
        for size in TITLE_SIZES:
            face = font(size, bold=True)
            lines = wrap(draw, title, face, inner, title_direction)
            if len(lines) <= TITLE_LINES:
                break
        lines = lines[:TITLE_LINES]
        write(MARGIN - 8, site, font(30), MUTED)
        y = MARGIN + 52
        for line in lines:
            write(y, line, face, INK, title_direction)
            y += int(size * 1.35)

        goal = petition.goal_for(count)
        counted = ngettext("%(count)s signature", "%(count)s signatures", count) % {
            "count": format_number(count, language)
        }
        of_goal = _("Goal: %(goal)s") % {"goal": format_number(goal, language)}
        write(SIZE[1] - MARGIN - 150, counted, font(60, bold=True), INK)
        write(SIZE[1] - MARGIN - 72, of_goal, font(32), MUTED)

    bar_top, bar_height = SIZE[1] - MARGIN - 18, 18
    draw.rounded_rectangle(
        (MARGIN, bar_top, SIZE[0] - MARGIN, bar_top + bar_height), radius=9, fill=BAR
    )
    filled = int(inner * min(count / goal, 1.0))
    if filled:
        left = SIZE[0] - MARGIN - filled if rtl else MARGIN
        draw.rounded_rectangle(
            (left, bar_top, left + filled, bar_top + bar_height), radius=9, fill=FILL
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cache_key(petition: Petition, language: str, now: float | None = None) -> str:
    """One key per petition, language, edit of the petition and SHARE_IMAGE_SECONDS window: the
    image follows the count at most that often, and an edited title at once."""
    window = int((now or time.time()) // settings.SHARE_IMAGE_SECONDS)
    edited = petition.updated_at.isoformat() if petition.updated_at else ""
    return cache.share_image_key(petition.pk, language, edited, window)


def share_image(petition: Petition, language: str) -> bytes:
    key = cache_key(petition, language)
    png = cache.get(key)
    if png is None:
        png = render(petition, language, counting.current_count(petition).count)
        cache.set(key, png, settings.SHARE_IMAGE_SECONDS)
    return png
