"""Organiser-written text to safe HTML.

Organisers paste plain text or light Markdown into the admin. We render it with Python-Markdown
and then pass the HTML through nh3 (the Ammonia sanitiser), because the Markdown renderer itself
lets raw HTML through: a compromised organiser account must not be able to put script on a page
read by thousands.
"""

from functools import lru_cache

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4",
    "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=256)
def render_letter(text: str) -> str:
    """Markdown to sanitised HTML. A single line break stays a line break, as pasted text means."""
    if not text.strip():
        return ""
    html = markdown.markdown(text, extensions=["nl2br", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
