"""Organisers' text to safe HTML: cmark-gfm, linear in the text (anyone can preview a letter),
then nh3, the one place that decides which tags and links a page may carry."""

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
# nh3 takes time quadratic in nesting depth (30,000 ">" take seconds); deeper text is shown plain.
MAX_NESTING = 32
# Enough for cmark's output, which escapes every "<" and ">" in text and attributes.
TAG = re.compile(r"<(/?)[a-z][^>]*?(/?)>")
BLANK_LINE = re.compile(r"\n\s*\n")
KEPT_SECONDS = 24 * 3600


def kept_letters(*texts: str) -> list[str]:
    """`render_letter` of each text, cached by its digest, so that an edit is never shown stale."""
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
    """A single line break stays a line break, as pasted text means."""
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
    paragraphs = (p.strip() for p in BLANK_LINE.split(text.replace("\r\n", "\n")))
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p
    )
