"""One click in the widget for a returning reader: after signing inside another site's
frame, the browser may keep a partitioned cookie (SameSite=None; Secure; Partitioned) for that
site, and the widget then offers to sign as them there once they type their first name: in the
sign box its script asks `me/?embed=1` for, or without scripts on the widget's `?form`. The
widget itself is the same public form for everyone."""

from http.cookies import SimpleCookie

import pytest
from django.test import Client

from signatures import supporter
from signatures.models import Signature
from tests.factories import make_petition, sign_form_data
from tests.html import elements

pytestmark = pytest.mark.django_db

BROWSER = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}


def attributes(set_cookie: str) -> tuple[str, str, set[str]]:
    """A Set-Cookie header's name, value and attribute names (lower case)."""
    first, *rest = (part.strip() for part in set_cookie.split(";"))
    name, value = first.split("=", 1)
    return name, value, {part.split("=", 1)[0].lower() for part in rest}


def sign_in_widget(petition, **overrides):
    data = sign_form_data(petition, embed="1", source="widget:news.example.org", **overrides)
    return Client().post(f"/en/p/{petition.slug}/sign/", data, headers=BROWSER)


def test_signing_in_the_widget_sets_a_partitioned_cross_site_cookie_and_no_lax_one():
    petition = make_petition()
    response = sign_in_widget(petition, name="Sara Karimi")
    assert response.status_code == 302
    name, value, flags = attributes(response["Set-Cookie"])
    assert name == supporter.EMBED_COOKIE_NAME
    assert {"httponly", "secure", "samesite", "partitioned", "max-age", "path"} <= flags
    assert "SameSite=None" in response["Set-Cookie"]
    # The Lax cookie would never come back to a cross-site frame: not set at all.
    assert supporter.COOKIE_NAME not in response.cookies
    # The value is the same signed record of what the reader typed.
    request = type("R", (), {"COOKIES": {name: value}})()
    assert supporter.recall(request).short_name == "Sara K."


def test_signing_on_the_page_still_sets_the_lax_cookie_only():
    petition = make_petition()
    response = Client().post(
        f"/en/p/{petition.slug}/sign/", sign_form_data(petition), headers=BROWSER
    )
    assert response.cookies[supporter.COOKIE_NAME]["samesite"] == "Lax"
    assert "Set-Cookie" not in response.headers


def returning_reader() -> Client:
    reader = Client()
    cookie = attributes(sign_in_widget(make_petition(), name="Sara Karimi")["Set-Cookie"])
    reader.cookies = SimpleCookie({cookie[0]: cookie[1]})
    return reader


def widget_with_cookie(petition, language="en"):
    """A returning reader, and the sign box the widget's script asks for on their behalf."""
    reader = returning_reader()
    return reader, reader.get(f"/{language}/p/{petition.slug}/me/", {"embed": "1"})


@pytest.mark.parametrize("own_box", ["me/?embed=1", "embed/?form"])
def test_a_returning_reader_is_offered_one_click_in_the_widget_privately(own_box):
    petition = make_petition()
    response = returning_reader().get(f"/en/p/{petition.slug}/{own_box}")
    html = response.content.decode()
    assert "To sign as <bdi>Sara K.</bdi>, type your first name" in html
    assert elements(html, "input", name="first_name")
    assert 'name="email"' not in html
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    # "Not you?" forgets the reader in the same frame.
    assert [f for f in elements(html, "form", method="post") if "not-you" in f["action"]]


def test_a_returning_readers_widget_is_the_public_widget():
    petition = make_petition()
    response = returning_reader().get(f"/en/p/{petition.slug}/embed/")
    html = response.content.decode()
    assert 'name="email"' in html and 'name="first_name"' not in html
    assert "public" in response["Cache-Control"]
    assert f'data-personal-url="/en/p/{petition.slug}/me/?embed=1"' in html


def test_the_persian_widget_asks_for_the_first_name_in_persian():
    petition = make_petition()
    _reader, response = widget_with_cookie(petition, language="fa")
    assert "نام کوچک خود را بنویسید" in response.content.decode()


def test_the_full_form_asked_for_in_the_widget_is_private():
    petition = make_petition()
    response = returning_reader().get(f"/en/p/{petition.slug}/embed/", {"form": "full"})
    html = response.content.decode()
    assert 'name="email"' in html and 'name="first_name"' not in html
    assert "private" in response["Cache-Control"]


def test_one_click_in_the_widget_signs_and_shows_the_widgets_thanks(settings):
    settings.SIGN_MIN_CLICK_SECONDS = 0
    petition = make_petition()
    reader, response = widget_with_cookie(petition)
    html = response.content.decode()
    form = elements(html, "form", class_="one-click")[0]
    hidden = {
        field["name"]: field["value"]
        for field in elements(html, "input", type="hidden")
        if field.get("name")
    }
    assert hidden["embed"] == "1" and hidden["one_click"]
    hidden["first_name"] = "Sara"
    hidden["source"] = "widget:blog.example.net"  # what the widget's script fills in
    signed = reader.post(form["action"], hidden, headers=BROWSER)
    assert signed.status_code == 302
    assert signed.url == f"/en/p/{petition.slug}/embed/thanks/"
    signature = Signature.objects.get(petition=petition)
    assert signature.name == "Sara Karimi" and signature.source == "widget:blog.example.net"


def test_a_widget_without_the_cookie_stays_public_and_offers_the_form():
    petition = make_petition()
    response = Client().get(f"/en/p/{petition.slug}/embed/")
    assert "public" in response["Cache-Control"]
    assert 'name="first_name"' not in response.content.decode()


def test_a_reader_who_signed_in_this_frame_is_told_so_with_the_share_links():
    petition = make_petition()
    reader = Client()
    signed = sign_in_widget(petition, name="Sara Karimi")
    name, value, _flags = attributes(signed["Set-Cookie"])
    reader.cookies = SimpleCookie({name: value})
    html = reader.get(f"/en/p/{petition.slug}/me/?embed=1").content.decode()
    assert "You signed this petition." in html
    assert 'name="first_name"' not in html
    assert "https://t.me/share/url?url=" in html


def one_click_fields(html: str) -> dict:
    return {
        field["name"]: field.get("value") or ""
        for field in elements(html, "input")
        if field.get("name") and field.get("type") != "submit"
    }


def test_a_blind_click_on_the_widget_signs_nothing(settings):
    """A site that frames the widget invisibly over a bait button gets the reader's clicks, and
    double clicks, but cannot type the reader's first name for them."""
    settings.SIGN_MIN_CLICK_SECONDS = 0
    victim = make_petition()
    reader, response = widget_with_cookie(victim)
    html = response.content.decode()
    (form,) = elements(html, "form", class_="one-click")
    fields = {k: v for k, v in one_click_fields(html).items() if k != "first_name"}

    for _click in range(2):
        signed = reader.post(form["action"], fields, headers=BROWSER)
        assert signed.status_code == 400

    assert not Signature.objects.filter(petition=victim).exists()


def test_the_widget_signs_once_the_reader_types_their_first_name(settings):
    settings.SIGN_MIN_CLICK_SECONDS = 0
    petition = make_petition()
    reader, response = widget_with_cookie(petition)
    html = response.content.decode()
    (form,) = elements(html, "form", class_="one-click")
    fields = one_click_fields(html) | {"first_name": " sara "}

    signed = reader.post(form["action"], fields, headers=BROWSER)

    assert signed.status_code == 302
    assert Signature.objects.get(petition=petition).name == "Sara Karimi"


def test_not_you_in_the_widget_deletes_the_partitioned_cookie():
    petition = make_petition()
    reader, response = widget_with_cookie(petition)
    html = response.content.decode()
    (form,) = [f for f in elements(html, "form", method="post") if "not-you" in f["action"]]

    forgotten = reader.post(form["action"], one_click_fields(html), headers=BROWSER)

    assert forgotten.status_code == 302
    assert forgotten.url == f"/en/p/{petition.slug}/embed/"
    name, value, flags = attributes(forgotten["Set-Cookie"])
    assert (name, value) == (supporter.EMBED_COOKIE_NAME, "")
    assert {"partitioned", "secure", "max-age"} <= flags and "Max-Age=0" in forgotten["Set-Cookie"]
