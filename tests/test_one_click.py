"""One-click signing: the server side of the remembered supporter. The page is the same for
everyone; a returning supporter's own sign box comes from `me/` (asked for by the page's script)
or, without scripts, from the page's `?form`."""

import pytest

from signatures.models import Signature
from tests.factories import make_petition, one_click_data, sign_form_data
from tests.html import elements

pytestmark = pytest.mark.django_db


def test_after_signing_other_petitions_offer_one_click(client):
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))

    for own_box in (f"/en/p/{second.slug}/me/", f"/en/p/{second.slug}/?form"):
        html = client.get(own_box).content.decode()
        assert "Sign as <bdi>Sara K.</bdi>" in html, own_box
        assert [f for f in elements(html, "form", method="post") if "not-you" in f["action"]]
        assert not elements(html, "input", name="email")
    # The page itself offers the form, and says where to ask for one click without a script.
    html = client.get(f"/en/p/{second.slug}/").content.decode()
    assert elements(html, "input", name="email") and "Sign as" not in html
    assert elements(html, "a", href="?form#sign")


def test_one_click_signs_with_the_remembered_details(client):
    first, second = make_petition(), make_petition()
    client.post(
        f"/en/p/{first.slug}/sign/",
        sign_form_data(
            first, name="Sara Karimi", email="sara@example.com", country="DE", locality="Berlin"
        ),
    )
    response = client.post(f"/fa/p/{second.slug}/sign/", one_click_data(client, second))

    assert response.status_code == 302
    signature = Signature.objects.get(petition=second)
    assert (signature.name, signature.email, signature.country.code, signature.locality) == (
        "Sara Karimi",
        "sara@example.com",
        "DE",
        "Berlin",
    )  # a signer in Iran's cookie keeps no city: tests/test_signer_safety.py
    assert signature.language == "fa"
    # Consent was given to the first organiser, not to this one.
    assert signature.consent_contact is False


def test_not_you_brings_the_full_form_back(client):
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first))
    html = client.get(f"/en/p/{second.slug}/?form=full").content.decode()
    assert elements(html, "input", name="email")
    assert "Sign as" not in html


def test_one_click_without_a_valid_cookie_asks_for_the_form(client):
    petition = make_petition()
    client.cookies["supporter"] = "forged-value"
    response = client.post(f"/en/p/{petition.slug}/sign/", {"one_click": "1"})
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_the_remembered_cookie_cannot_be_forged(client):
    from django.core import signing

    petition = make_petition()
    forged = signing.dumps({"name": "X Y", "email": "x@example.com", "country": "GB"}, salt="other")
    client.cookies["supporter"] = forged
    assert client.get(f"/en/p/{petition.slug}/me/").status_code == 204
    assert "Sign as" not in client.get(f"/en/p/{petition.slug}/?form").content.decode()


def test_a_supporter_cookie_older_than_six_months_is_not_recalled(client, monkeypatch):
    import time

    from signatures import supporter

    petition = make_petition()
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    request = type("Request", (), {"COOKIES": {"supporter": client.cookies["supporter"].value}})
    assert supporter.recall(request) is not None
    later = time.time() + supporter.COOKIE_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert supporter.recall(request) is None


def test_a_supporter_cookie_edited_by_hand_is_not_recalled(client):
    from signatures import supporter

    petition = make_petition()
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    value = client.cookies["supporter"].value
    payload, rest = value.rsplit(":", 2)[0], value.rsplit(":", 2)[1:]
    edited = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + ":" + ":".join(rest)
    request = type("Request", (), {"COOKIES": {"supporter": edited}})
    assert supporter.recall(request) is None


def one_click_page(client, petition, language="en") -> dict:
    """The hidden fields of the one-click form the page's script puts in, as the browser would
    post them."""
    html = client.get(f"/{language}/p/{petition.slug}/me/").content.decode()
    (form,) = elements(html, "form", class_="one-click")
    fields = {
        f["name"]: f["value"] for f in elements(html, "input", type="hidden") if f.get("name")
    }
    return {"action": form["action"], "fields": fields}


def test_a_one_click_post_without_the_pages_token_signs_nothing(client):
    """A browser that sends neither Origin nor Sec-Fetch-Site (an old one, or behind a proxy that
    strips them) still sends the Lax cookie on a top-level form POST from another site."""
    first, victim = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))

    response = client.post(f"/en/p/{victim.slug}/sign/", {"one_click": "1"})

    assert response.status_code == 400
    assert not Signature.objects.filter(petition=victim).exists()


def test_a_one_click_token_made_for_another_supporter_signs_nothing(client, settings):
    from django.test import Client

    settings.SIGN_MIN_CLICK_SECONDS = 0
    first, victim = make_petition(), make_petition()
    stranger = Client()
    stranger.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Reza Tehrani"))
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))
    page = one_click_page(stranger, victim)

    response = client.post(page["action"], page["fields"])

    assert response.status_code == 400
    assert not Signature.objects.filter(petition=victim).exists()


def test_a_click_landing_as_the_page_appears_signs_nothing(client):
    """A double click whose second click lands on a window just opened under the pointer."""
    first, victim = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))
    page = one_click_page(client, victim)

    response = client.post(page["action"], page["fields"])

    assert response.status_code == 400
    assert not Signature.objects.filter(petition=victim).exists()
    assert "Sign as <bdi>Sara K.</bdi>" in response.content.decode()


def test_the_one_click_tokens_display_time_counts_from_when_the_sign_box_was_served(
    client, settings, monkeypatch
):
    import time

    settings.SIGN_MIN_CLICK_SECONDS = 1
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))
    served = time.time()
    monkeypatch.setattr(time, "time", lambda: served - 3600)  # the page, cached an hour ago
    client.get(f"/en/p/{second.slug}/")
    monkeypatch.setattr(time, "time", lambda: served)
    page = one_click_page(client, second)  # the box, served now

    assert client.post(page["action"], page["fields"]).status_code == 400
    monkeypatch.setattr(time, "time", lambda: served + 1.5)
    assert client.post(page["action"], page["fields"]).status_code == 302


def test_the_sign_box_is_not_given_to_a_page_of_another_site(client):
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))

    response = client.get(f"/en/p/{second.slug}/me/", headers={"Sec-Fetch-Site": "cross-site"})

    assert response.status_code == 204 and not response.content


def test_a_deliberate_one_click_signs(client, settings):
    settings.SIGN_MIN_CLICK_SECONDS = 0
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))
    page = one_click_page(client, second)

    assert client.post(page["action"], page["fields"]).status_code == 302
    assert Signature.objects.get(petition=second).name == "Sara Karimi"


def test_not_you_forgets_the_supporter_without_javascript(client):
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))
    html = client.get(f"/en/p/{first.slug}/?form").content.decode()
    assert "You signed this petition." in html
    (form,) = [f for f in elements(html, "form", method="post") if "not-you" in f["action"]]

    response = client.post(form["action"])

    assert response.status_code == 302
    assert client.cookies["supporter"].value == ""
    for petition in (first, second):
        assert client.get(f"/en/p/{petition.slug}/me/").status_code == 204
        html = client.get(f"/en/p/{petition.slug}/?form").content.decode()
        assert "You signed this petition." not in html
        assert "Sign as" not in html
        assert elements(html, "input", name="email")


def test_an_emoji_after_the_surname_is_never_taken_for_the_initial(client):
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi 😀"))

    html = client.get(f"/en/p/{second.slug}/me/").content.decode()
    assert "Sign as <bdi>Sara K.</bdi>" in html


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Sara Karimi 😀", "Sara K."),
        ("😀 Sara Karimi", "Sara K."),
        ("Sara 😀 Karimi", "Sara K."),
        ("Sara (Karimi)", "Sara K."),
        ("علی کریمی 🌳", "علی ک."),
        ("Sara", "Sara"),
    ],
)
def test_the_initial_is_the_first_letter_of_the_last_word_made_of_letters(name, shown):
    from signatures.supporter import short_name

    assert short_name(name) == shown
