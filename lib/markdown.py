"""Organiser-written text to safe HTML.

Organisers (and anonymous starters) paste plain text or light Markdown. We render it with
cmark-gfm, the C reference implementation of CommonMark, whose parser runs in time linear in the
text: Python-Markdown took minutes on a letter of unmatched brackets, and anyone can have the
start form's preview render one. cmark drops raw HTML and unsafe link targets itself; the HTML
then still goes through nh3 (the Ammonia sanitiser), the one place that decides which tags and
links a page may carry.

A public page does not render on every view: `kept_letters` keeps each rendering in the cache,
found by a digest of its text, so it is made once for every app server and an edited text can
never be shown the rendering of the old one.
"""

import html
import re

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

from . import cache

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4",
    "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# nh3's HTML parser takes time quadratic in how deeply elements nest (30,000 ">" make 30,000
# nested quotes: seconds). No letter nests more than a few levels; deeper text is shown plain.
MAX_NESTING = 32
# A tag in cmark's own output, where text and attribute values have every "<" and ">" escaped.
TAG = re.compile(r"<(/?)[a-z][^>]*?(/?)>")
BLANK_LINE = re.compile(r"\n\s*\n")
# Texts change seldom; a rendering nobody asks for any more leaves the cache after this long.
KEPT_SECONDS = 24 * 3600


def kept_letters(*texts: str) -> list[str]:
    """`render_letter` of each text, from the cache in one read where it was made before, and
    kept there when not. Without the cache each is rendered every time."""
    keys = {text: cache.letter_key(text) for text in texts if text.strip()}
    found = cache.get_many(list(keys.values())) if keys else {}
    made = {}
    rendered = []
    for text in texts:
        key = keys.get(text)
        if key is None:
            rendered.append("")
        elif key in found:
            rendered.append(found[key])
        else:
            made[key] = found[key] = render_letter(text)
            rendered.append(made[key])
    if made:
        cache.set_many(made, KEPT_SECONDS)
    return rendered


def render_letter(text: str) -> str:
    """Markdown to sanitised HTML. A single line break stays a line break, as pasted text means."""
    if not text.strip():
        return ""
    rendered = cmarkgfm.markdown_to_html(text, options=Options.CMARK_OPT_HARDBREAKS)
    if nests_deeper(rendered, MAX_NESTING):
        return plain_paragraphs(text)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    ).strip()


def nests_deeper(rendered: str, limit: int) -> bool:
    """Whether the elements of cmark's (well-formed) output nest more than `limit` deep."""
    depth = 0
    for tag in TAG.finditer(rendered):
        if tag[1]:
            depth -= 1
        elif not tag[2]:
            depth += 1
            if depth > limit:
                return True
    return False


def plain_paragraphs(text: str) -> str:
    """The text as written, escaped: a paragraph per blank line, a break per line break."""
    paragraphs = (p.strip() for p in BLANK_LINE.split(text.replace("\r\n", "\n")))
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p
    )
