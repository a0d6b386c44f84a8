from petitions.text import render_letter


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
