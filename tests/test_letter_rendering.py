import json
import subprocess
import sys

import pytest
from django.conf import settings

from lib.markdown import render_letter


def test_plain_paragraphs_become_paragraphs_and_single_breaks_stay():
    html = render_letter("Dear Minister,\n\nFirst line\nsecond line")
    assert html == "<p>Dear Minister,</p>\n<p>First line<br>\nsecond line</p>"


def test_light_markdown_is_rendered():
    html = render_letter(
        "We ask **one** thing:\n\n- free\n- fair\n\n[Read more](https://example.org)"
    )
    assert "<strong>one</strong>" in html
    assert "<li>free</li>" in html
    assert 'href="https://example.org"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_script_and_event_handlers_are_removed():
    html = render_letter('Hi <script>alert(1)</script><img src=x onerror="alert(2)"> there')
    assert "<script" not in html
    assert "onerror" not in html
    assert "alert(2)" not in html


def test_javascript_links_lose_their_target():
    html = render_letter("[click](javascript:alert(1)) and <a href='javascript:alert(2)'>x</a>")
    assert "javascript:" not in html


def test_persian_text_and_zwnj_survive_rendering():
    text = "آیت\u200cالله خامنه\u200cای"
    assert text in render_letter(text)


# Inputs that make a backtracking Markdown parser take seconds to minutes, each at most the
# letter's 30,000 characters.
CRAFTED_LETTERS = {
    "unclosed links": "[" * 15000 + "a" + "](" * 7000,
    "bracket pairs": "[a" * 15000,
    "unclosed tags": "<a " * 10000,
    "reference links": "[x][" * 7500,
    "images": "![" * 15000,
    "emphasis": "*a" * 15000,
    "strong emphasis": "**a" * 10000,
    "backticks": "`a" * 15000,
    "nested quotes": ">" * 30000,
    "nested quotes and lists": "> - " * 7500,
    "nested raw lists": "<ul><li>" * 3750,
    "nested raw blocks": "<div>" * 6000,
    "link definitions": "".join(f"[r{i}]: http://x.example/{i}\n" for i in range(800))
    + "[r1] " * 1000,
}
RENDER_IN_A_CHILD = """
import json, sys, time
from lib.markdown import render_letter
letters = json.load(sys.stdin)
for name, text in letters.items():
    started = time.perf_counter()
    render_letter(text)
    print(f"{time.perf_counter() - started:.3f} {name}", flush=True)
"""


def test_crafted_letters_render_in_well_under_a_second():
    # A child process, so that a slow renderer fails the test in seconds instead of hanging it.
    try:
        done = subprocess.run(
            [sys.executable, "-c", RENDER_IN_A_CHILD],
            input=json.dumps(CRAFTED_LETTERS),
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
            cwd=settings.BASE_DIR,
        ).stdout
    except subprocess.TimeoutExpired as exc:
        finished = (exc.stdout or b"").decode()
        pytest.fail(f"rendering took over 20 s; finished: {finished!r}")
    timings = [line.split(" ", 1) for line in done.splitlines()]
    assert len(timings) == len(CRAFTED_LETTERS)
    slow = [(name, float(seconds)) for seconds, name in timings if float(seconds) > 1]
    assert slow == []


def test_text_nested_too_deeply_is_shown_as_written():
    html = render_letter(">" * 40 + " <b>deep</b>\nnext")
    assert html == "<p>" + "&gt;" * 40 + " &lt;b&gt;deep&lt;/b&gt;<br>\nnext</p>"


def test_a_few_levels_of_quotes_and_lists_still_render():
    html = render_letter("> quoted\n>\n> - one\n>   - two")
    assert html.startswith("<blockquote>")
    assert "<li>two</li>" in html


# -- the page keeps the rendering: made once per text, shared by every app server ---------------


def petition_page(client, petition, language="en"):
    from django.utils import translation

    with translation.override(language):
        url = petition.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def count_markdown_renders(monkeypatch) -> list[str]:
    import cmarkgfm

    renders = []
    real = cmarkgfm.markdown_to_html

    def counting(text, *args, **kwargs):
        renders.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(cmarkgfm, "markdown_to_html", counting)
    return renders


@pytest.mark.django_db
def test_a_letter_rendered_by_one_app_server_is_not_rendered_again_by_another(client, monkeypatch):
    from tests.factories import make_petition

    petition = make_petition(letter_en="Dear Minister,\n\nWe ask **one** thing.")
    assert "<strong>one</strong>" in petition_page(client, petition)
    renders = count_markdown_renders(monkeypatch)
    # Another app server: none of this process's own memory, only the shared cache.
    getattr(render_letter, "cache_clear", lambda: None)()
    for _ in range(3):
        assert "<strong>one</strong>" in petition_page(client, petition)
    assert renders == []


@pytest.mark.django_db
def test_an_edited_letter_is_shown_at_once_never_the_kept_rendering_of_the_old_text(client):
    from tests.factories import make_petition

    petition = make_petition(letter_en="We ask **one** thing.")
    assert "<strong>one</strong>" in petition_page(client, petition)
    petition.letter_en = "We ask **two** things."
    petition.save()
    html = petition_page(client, petition)
    assert "<strong>two</strong>" in html and "<strong>one</strong>" not in html


@pytest.mark.django_db
def test_the_letter_renders_without_the_cache(client, settings):
    from lib import cache
    from tests.factories import make_petition

    settings.CACHES = {
        name: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
        for name in ("default", "shared")
    }
    cache.reset()
    petition = make_petition(letter_fa="وزیر محترم،\n\nما **یک** چیز می‌خواهیم.")
    assert "<strong>یک</strong>" in petition_page(client, petition, "fa")
