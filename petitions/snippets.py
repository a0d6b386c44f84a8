"""What an organiser pastes into another site to show a petition there, in each language."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .models import Petition

# The widget's size and the badge's, unless the page around them says otherwise.
WIDGET_WIDTH, WIDGET_HEIGHT = 420, 1000
BADGE_WIDTH, BADGE_HEIGHT = 320, 360


def iframe_html(src: str, page_url: str, title: str, width: int, height: int) -> SafeString:
    """A frame with a plain link to the page inside it, for a reader (a feed reader, a sanitised
    copy of the post) that drops frames and keeps their content."""
    return format_html(
        '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy" '
        'style="border:0;max-width:100%"><a href="{}">{}</a></iframe>',
        src,
        width,
        height,
        title,
        page_url,
        title,
    )


@dataclass(frozen=True)
class Snippets:
    language: str
    page_url: str
    iframe: str
    loader: str
    badge: str
    oembed_url: str


def snippets(petition: Petition, site_url: str | None = None) -> list[Snippets]:
    """The snippets for each language the petition is published in, built on the canonical
    address (SITE_URL) whatever host the organiser's admin was opened on."""
    site = (site_url or settings.SITE_URL).rstrip("/")
    loader_src = site + settings.STATIC_URL + "js/embed.js"
    found = []
    for language in petition.languages:
        with translation.override(language):
            title = petition.in_language(language).title.value
            page = site + petition.get_absolute_url()
            embed = site + petition.get_embed_url()
            badge = site + reverse("petitions:badge", kwargs={"slug": petition.slug})
            oembed = site + reverse("oembed") + "?" + urlencode({"url": page, "format": "json"})
        found.append(
            Snippets(
                language=language,
                page_url=page,
                iframe=iframe_html(embed, page, title, WIDGET_WIDTH, WIDGET_HEIGHT),
                loader=format_html(
                    '<a href="{}" data-petition-embed>{}</a>\n<script src="{}" async></script>',
                    page,
                    title,
                    loader_src,
                ),
                badge=iframe_html(badge, page, title, BADGE_WIDTH, BADGE_HEIGHT),
                oembed_url=oembed,
            )
        )
    return found
