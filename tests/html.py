"""Just enough HTML reading for page assertions, on the standard library's parser."""

from html.parser import HTMLParser


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str, tag: str, **attrs: str) -> list[dict[str, str | None]]:
    """Attribute dicts of every `tag` whose attributes include `attrs` (class_ for class)."""
    parser = _Collector()
    parser.feed(html)
    wanted = {key.rstrip("_"): value for key, value in attrs.items()}
    return [
        found
        for name, found in parser.elements
        if name == tag and all(found.get(k) == v for k, v in wanted.items())
    ]


def html_root(html: str) -> dict[str, str | None]:
    return elements(html, "html")[0]
