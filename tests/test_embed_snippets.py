"""The embed code on the petition's admin page: per language, a plain iframe, the
loader script, the counter badge and the address for oEmbed, all on the canonical address, and
each of them pointing at something that answers."""

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from petitions.snippets import snippets
from tests.factories import make_petition, make_staff

pytestmark = pytest.mark.django_db


def test_the_admin_page_shows_every_snippet_in_both_languages(admin_client, settings):
    settings.SITE_URL = "https://petitions.example"
    petition = make_petition(slug="free-press")
    html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    code = unescape(html)
    for language in ("en", "fa"):
        assert f'<iframe src="https://petitions.example/{language}/p/free-press/embed/"' in code
        assert f'<a href="https://petitions.example/{language}/p/free-press/" data-petition-embed>'
        assert f'src="https://petitions.example/{language}/p/free-press/badge/"' in code
        assert f">https://petitions.example/{language}/p/free-press/</textarea>" in html
    assert '<script src="https://petitions.example/static/js/embed.js" async></script>' in code
    assert "admin-extra/embed-snippets.js" in html


def test_every_snippet_points_at_a_page_that_answers(client):
    petition = make_petition(slug="free-press")
    for found in snippets(petition, "http://testserver"):
        for snippet in (found.iframe, found.badge, found.loader):
            for url in re.findall(r'(?:src|href)="([^"]+)"', str(snippet)):
                path = urlsplit(unescape(url)).path
                if path.startswith(settings.STATIC_URL):
                    assert finders.find(path.removeprefix(settings.STATIC_URL)), path
                else:
                    assert client.get(path).status_code == 200, path
        answer = client.get(unescape(found.oembed_url).removeprefix("http://testserver"))
        assert answer.json()["type"] == "rich"


def test_the_oembed_answer_gives_the_same_frame_as_the_snippet():
    petition = make_petition(slug="free-press")
    english = snippets(petition, "http://testserver")[0]
    answer = Client().get("/oembed", {"url": english.page_url, "format": "json"}).json()
    assert answer["html"] == str(english.iframe)


def test_a_persian_only_petition_gets_persian_snippets_only():
    petition = make_petition(title_en="", summary_en="", letter_en="", original_language="fa")
    found = snippets(petition, "https://petitions.example")
    assert [s.language for s in found] == ["fa"]
    assert f"https://petitions.example/fa/p/{petition.slug}/embed/" in str(found[0].iframe)


def test_the_starters_page_shows_the_same_snippets_once_published(client, settings):
    """The starter copies the same code as the organiser does in the admin."""
    from petitions import starting

    settings.SITE_URL = "https://petitions.example"
    petition = make_petition(
        title_en="",
        summary_en="",
        letter_en="",
        original_language="fa",
        starter_email="starter@example.com",
        starter_email_canonical="starter@example.com",
    )
    opened = client.post(f"/fa/start/link/{starting.make_token(petition)}/")
    assert opened.status_code == 302
    html = unescape(client.get(opened.url).content.decode())
    assert f'<iframe src="https://petitions.example/fa/p/{petition.slug}/embed/"' in html
    assert f'src="https://petitions.example/fa/p/{petition.slug}/badge/"' in html
    assert "/en/p/" not in html.split("embed-snippets", 1)[1]


HOSTILE_TITLE = (
    'Save the "Green" park\'s <script>alert(1)</script><img src=x onerror=alert(2)> & co 🌳'
)


class Textareas(HTMLParser):
    """Each textarea's value as a browser gives it: its content with character references
    decoded once (html.parser treats textarea content as RCDATA, as browsers do)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "textarea":
            self._open = dict(attrs)["id"]
            self.values[self._open] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._open = None

    def handle_data(self, data):
        if self._open:
            self.values[self._open] += data


def textarea_values(html: str) -> dict[str, str]:
    parser = Textareas()
    parser.feed(html)
    return parser.values


@pytest.mark.parametrize("where", ["admin", "starter"])
def test_every_copied_snippet_is_the_intended_html_with_a_hostile_title(client, settings, where):
    settings.SITE_URL = "http://testserver"
    petition = make_petition(
        title_en=HOSTILE_TITLE,
        title_fa='پارک «سبز» <script>alert(3)</script> & "ما"',
        starter_email="starter@example.com",
        starter_email_canonical="starter@example.com",
    )
    if where == "admin":
        client.force_login(make_staff())
        html = client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    else:
        from petitions import starting

        opened = client.post(f"/en/start/link/{starting.make_token(petition)}/")
        html = client.get(opened.url).content.decode()
    copied = textarea_values(html)
    found = snippets(petition)
    assert [s.language for s in found] == ["en", "fa"]
    for snippet in found:
        for kind in ("iframe", "loader", "badge"):
            assert copied[f"embed-{snippet.language}-{kind}"] == str(getattr(snippet, kind))
        oembed = Client().get("/oembed", {"url": snippet.page_url, "format": "json"}).json()
        assert copied[f"embed-{snippet.language}-iframe"] == oembed["html"]
    assert "<script>alert" not in copied["embed-en-iframe"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in copied["embed-en-loader"]
