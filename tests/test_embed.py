"""The widget other sites frame: the petition's title, live counter and a compact sign
form that signs with no cookie at all, cached like the petition page, frameable by any site or
only by the sites its organiser lists, while every other page refuses to be framed."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from petitions.models import Petition
from signatures.models import Signature
from tests.factories import make_petition, make_signature, sign_form_data
from tests.html import elements, html_root

pytestmark = pytest.mark.django_db

BROWSER = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def frame_ancestors(response) -> str:
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return policy["frame-ancestors"]


def the_form(html: str) -> tuple[str, dict[str, str]]:
    form = html[html.index("<form") : html.index("</form>")]
    action = re.search(r'action="([^"]+)"', form).group(1)
    return action, dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def test_the_widget_shows_the_title_counter_and_a_compact_sign_form():
    petition = make_petition(title_en="Free the press", slug="free-press")
    for _ in range(3):
        make_signature(petition)
    response = Client().get("/en/p/free-press/embed/")
    assert response.status_code == 200
    html = response.content.decode()

    assert len(elements(html, "h1")) == 1 and "Free the press" in html
    assert elements(html, "meter", class_="counter__meter")[0]["value"] == "3"
    assert 'data-count-url="/en/p/free-press/count.json"' in html
    assert elements(html, "script", src="/static/js/petition.js")
    for name in ("name", "email", "country", "locality", "comment"):
        assert f'name="{name}"' in html, name
    folded = html[html.index("<details") : html.index("</details>")]
    assert 'name="locality"' in folded and 'name="comment"' in folded
    action, hidden = the_form(html)
    assert action == "/en/p/free-press/sign/"
    assert hidden["embed"] == "1" and hidden["source"] == "widget" and hidden["started"]
    # No site chrome: no header, language switcher or footer, and not the letter.
    assert "site-header" not in html and "site-footer" not in html
    assert "Please act." not in html


def test_visit_petition_page_opens_the_full_page_in_a_new_tab():
    make_petition(slug="free-press")
    html = Client().get("/fa/p/free-press/embed/").content.decode()
    links = elements(html, "a", href="http://testserver/fa/p/free-press/")
    assert links and links[0]["target"] == "_blank" and links[0]["rel"] == "noopener"
    assert "دیدن صفحهٔ کارزار" in html


def test_the_persian_widget_reads_right_to_left_with_persian_digits():
    petition = make_petition(slug="free-press")
    for _ in range(12):
        make_signature(petition)
    html = Client().get("/fa/p/free-press/embed/").content.decode()
    assert (html_root(html)["lang"], html_root(html)["dir"]) == ("fa", "rtl")
    assert '<strong class="counter__count" data-counter>۱۲</strong>' in html


def test_two_anonymous_readers_get_the_same_public_widget():
    petition = make_petition()
    first = Client().get(f"/en/p/{petition.slug}/embed/")
    second = Client().get(f"/en/p/{petition.slug}/embed/")
    assert first.content == second.content
    assert {"public", "max-age=10", "stale-while-revalidate=60"} <= cache_control(first)
    assert "Cookie" in first["Vary"]
    assert not first.cookies


def test_any_site_may_frame_the_widget_by_default():
    petition = make_petition()
    for url in (f"/en/p/{petition.slug}/embed/", f"/fa/p/{petition.slug}/embed/thanks/"):
        response = Client().get(url)
        assert frame_ancestors(response) == "*", url
        assert "X-Frame-Options" not in response, url


def test_a_restricted_widget_may_be_framed_only_by_the_listed_sites():
    petition = make_petition(embed_sites="https://news.example.org\nhttp://localhost:8123")
    for url in (f"/en/p/{petition.slug}/embed/", f"/en/p/{petition.slug}/embed/thanks/"):
        response = Client().get(url)
        assert frame_ancestors(response) == "https://news.example.org http://localhost:8123"
        assert "X-Frame-Options" not in response


def test_every_other_page_still_refuses_to_be_framed():
    petition = make_petition(slug="free-press")
    make_signature(petition)
    client = Client()
    for url in (
        "/en/",
        "/fa/p/free-press/",
        "/en/p/free-press/thanks/",
        "/en/p/free-press/count.json",
        "/en/privacy/",
        "/oembed?url=http%3A%2F%2Ftestserver%2Fen%2Fp%2Ffree-press%2F",
        "/en/p/nothing-here/embed/",
        "/admin/login/",
    ):
        response = client.get(url)
        assert frame_ancestors(response) == "'none'", url
        assert response["X-Frame-Options"] == "DENY", url


def test_a_reader_with_no_cookies_signs_in_the_widget_and_gets_its_thanks(settings):
    """Third-party iframes get no cookies: the widget signs with its form token alone. Its form
    posts to our origin from a page of our origin, so the browser says same-origin."""
    settings.SIGN_MIN_FILL_SECONDS = 0
    petition = make_petition(slug="free-press")
    action, hidden = the_form(Client().get("/fa/p/free-press/embed/").content.decode())
    hidden["source"] = "widget:news.example.org"  # what the widget's script fills in

    reader = Client(enforce_csrf_checks=True)  # every request without a cookie, CSRF as live
    response = reader.post(
        action,
        hidden | {"name": "سارا کریمی", "email": "widget@example.com", "country": "IR"},
        headers=BROWSER,
    )
    assert response.status_code == 302
    assert response.url == "/fa/p/free-press/embed/thanks/"
    signature = Signature.objects.get(petition=petition, email="widget@example.com")
    assert signature.source == "widget:news.example.org"

    thanks = Client().get(response.url)
    html = thanks.content.decode()
    assert thanks.status_code == 200
    assert '<strong class="counter__count" data-counter>۱</strong>' in html
    assert "site-header" not in html
    assert "https://t.me/share/url?url=http%3A%2F%2Ftestserver%2Ffa%2Fp%2Ffree-press%2F" in html
    assert frame_ancestors(thanks) == "*" and "X-Frame-Options" not in thanks


def test_a_widget_form_with_errors_shows_the_widget_again():
    petition = make_petition(embed_sites="https://news.example.org")
    response = Client().post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition, email="not-an-email", embed="1", source="widget:news.example.org"),
        headers=BROWSER,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please check your email address." in html
    assert "site-header" not in html and "Please act." not in html
    _action, hidden = the_form(html)
    assert hidden["embed"] == "1" and hidden["source"] == "widget:news.example.org"
    assert "private" in cache_control(response) and "public" not in cache_control(response)
    assert frame_ancestors(response) == "https://news.example.org"
    assert "X-Frame-Options" not in response


def test_a_page_form_with_errors_still_shows_the_full_page_unframeable():
    petition = make_petition()
    response = Client().post(
        f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email="x"), headers=BROWSER
    )
    assert response.status_code == 400
    assert "site-header" in response.content.decode()
    assert frame_ancestors(response) == "'none'"


def test_a_widget_signature_that_needs_confirmation_says_to_check_email():
    petition = make_petition(requires_confirmation=True)
    response = Client().post(
        f"/en/p/{petition.slug}/sign/", sign_form_data(petition, embed="1"), headers=BROWSER
    )
    assert response.url == f"/en/p/{petition.slug}/embed/thanks/?check=email"
    html = Client().get(response.url).content.decode()
    assert "One more step: check your email" in html


def test_a_closed_petitions_widget_takes_no_signatures():
    petition = make_petition(status=Petition.Status.CLOSED)
    html = Client().get(f"/en/p/{petition.slug}/embed/").content.decode()
    assert "This petition is not taking signatures." in html and "<form" not in html
    response = Client().post(
        f"/en/p/{petition.slug}/sign/", sign_form_data(petition, embed="1"), headers=BROWSER
    )
    assert response.url == f"/en/p/{petition.slug}/embed/"
    assert not Signature.objects.filter(petition=petition).exists()


def test_a_drafts_widget_is_not_found():
    petition = make_petition(status=Petition.Status.DRAFT)
    assert Client().get(f"/en/p/{petition.slug}/embed/").status_code == 404
    assert Client().get(f"/en/p/{petition.slug}/embed/thanks/").status_code == 404


def test_embed_sites_are_checked_and_tidied():
    petition = make_petition()
    petition.embed_sites = (
        " HTTPS://News.Example.org/ \n\nhttps://*.example.net\nhttp://localhost:8123"
    )
    petition.full_clean()
    assert petition.embed_sites == (
        "https://news.example.org\nhttps://*.example.net\nhttp://localhost:8123"
    )
    for wrong in (
        "news.example.org",
        "https://news.example.org/articles",
        "ftp://news.example.org",
        "https://news.example.org; script-src *",
        "https://نمونه.ir",
    ):
        petition.embed_sites = wrong
        with pytest.raises(ValidationError) as error:
            petition.full_clean()
        assert "embed_sites" in error.value.message_dict, wrong


def test_the_organiser_restricts_the_widget_in_the_admin(admin_client):
    petition = make_petition()
    html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert elements(html, "textarea", name="embed_sites")
    add = admin_client.get("/admin/petitions/petition/add/")
    assert add.status_code == 200 and elements(add.content.decode(), "textarea", name="embed_sites")
