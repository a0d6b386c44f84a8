"""Signing safely from inside Iran: no city for a signer in Iran on any public path,
"show my name" off by default where it matters, and petitions with stricter lists."""

import pytest
from django.core import signing
from django.core.cache import caches

from lib.cache import recent_key
from signatures import supporter
from signatures.models import Signature
from tests.factories import make_petition, make_signature, one_click_data, sign_form_data
from tests.html import elements

pytestmark = pytest.mark.django_db

IRAN_CITY = "Isfahan"
OTHER_CITY = "Leeds"


def public_bodies(client, petition) -> dict[str, str]:
    """Every public response that could name a signer: the page and its widget in both languages,
    the thank-you pages, the counter's JSON and the breakdown by country."""
    bodies = {}
    for language in ("en", "fa"):
        for path in ("", "embed/", "thanks/", "embed/thanks/", "count.json", "countries.json"):
            url = f"/{language}/p/{petition.slug}/{path}"
            response = client.get(url)
            assert response.status_code == 200, url
            bodies[url] = response.content.decode()
    return bodies


def test_a_signer_in_iran_is_never_listed_by_any_path(client):
    """Not even by first name and initial: with the breakdown by country public, a listed name
    that is known to be in Iran is one leak away from a person."""
    petition = make_petition()
    make_signature(petition, name="Sara Karimi", country="IR", locality=IRAN_CITY)
    make_signature(petition, name="Reza Tehrani", country="IR", locality="اصفهان")
    make_signature(petition, name="Tom Smith", country="GB", locality=OTHER_CITY)

    bodies = public_bodies(client, petition)
    for url, body in bodies.items():
        assert IRAN_CITY not in body, url
        assert "اصفهان" not in body, url
        assert "Sara K." not in body and "Reza T." not in body, url
    page = bodies[f"/en/p/{petition.slug}/"]
    assert '<bdi class="recent__name">Tom S.</bdi>' in page
    assert f"<bdi>{OTHER_CITY}</bdi>" in page

    # The cached list holds only what may be shown.
    cached = caches["default"].get(recent_key(petition.pk))
    assert cached is not None
    assert [signer["name"] for signer in cached] == ["Tom S."]


def test_a_list_cached_before_the_rule_is_never_read(client):
    """Lists cached under the old key could hold the city of a signer in Iran: the page reads a
    new key."""
    petition = make_petition()
    make_signature(petition, name="Sara Karimi", country="IR", locality=IRAN_CITY)
    stale = [{"name": "Sara K.", "locality": IRAN_CITY, "signed_at": None}]
    caches["default"].set(f"petition-recent:v1:{petition.pk}", stale, 300)
    assert IRAN_CITY not in client.get(f"/en/p/{petition.slug}/").content.decode()


def test_a_signer_in_iran_signing_with_one_click_is_listed_without_a_city(client):
    first, second = make_petition(), make_petition()
    client.post(
        f"/en/p/{first.slug}/sign/",
        sign_form_data(first, name="Sara Karimi", country="IR", locality=IRAN_CITY),
    )
    assert (
        client.post(f"/en/p/{second.slug}/sign/", one_click_data(client, second)).status_code == 302
    )
    signature = Signature.objects.get(petition=second)
    # The first signature keeps the city for the moderators; the cookie, and so one click, none.
    assert Signature.objects.get(petition=first).locality == IRAN_CITY
    assert signature.locality == ""
    assert signature.show_name  # the choice made on the first petition, repeated
    for url, body in public_bodies(client.__class__(), second).items():
        assert IRAN_CITY not in body, url


def test_the_list_shows_no_more_than_a_first_name_and_initial(client):
    petition = make_petition()
    make_signature(petition, name="Zohreh Mahsa Bahadori", country="GB", locality=OTHER_CITY)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert '<bdi class="recent__name">Zohreh B.</bdi>' in html
    assert "Mahsa" not in html
    assert "Bahadori" not in html


def show_name_box(html: str) -> dict:
    (box,) = elements(html, "input", name="show_name")
    return box


def test_show_my_name_says_why_it_starts_unticked(client):
    petition = make_petition()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    box = show_name_box(html)
    assert elements(html, "p", id=box["aria-describedby"])
    assert "Left unticked, you are counted but not named" in html


def test_unticked_means_not_shown(client):
    petition = make_petition()
    data = sign_form_data(petition, name="Zohreh Bahadori", country="IR", show_name=None)
    assert client.post(f"/fa/p/{petition.slug}/sign/", data).status_code == 302
    assert Signature.objects.get(petition=petition).show_name is False
    assert "Zohreh" not in client.__class__().get(f"/fa/p/{petition.slug}/").content.decode()


def test_the_note_by_the_form_says_what_is_shown_stored_and_seen(client):
    petition = make_petition()
    for language, words in (
        ("en", ("Shown in public", "Stored", "Seen by")),
        ("fa", ("آنچه همه می\u200cبینند", "آنچه نگه می\u200cداریم", "چه کسانی می\u200cبینند")),
    ):
        html = client.get(f"/{language}/p/{petition.slug}/").content.decode()
        for word in words:
            assert word in html, (language, word)
        assert elements(html, "a", href=f"/{language}/privacy/")


def test_a_petition_without_a_public_list_lists_no_one_and_does_not_ask(client):
    petition = make_petition(signer_list="none")
    make_signature(petition, name="Zohreh Bahadori", locality=OTHER_CITY)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "Zohreh" not in html
    assert not elements(html, "input", name="show_name")
    assert "This petition lists no signers" in html

    data = sign_form_data(petition, name="Mina Rad", show_name="on")
    assert client.post(f"/en/p/{petition.slug}/sign/", data).status_code == 302
    assert Signature.objects.get(name="Mina Rad").show_name is False


def test_a_petition_listing_names_only_shows_no_city(client):
    petition = make_petition(signer_list="names")
    make_signature(petition, name="Tom Smith", locality=OTHER_CITY)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert '<bdi class="recent__name">Tom S.</bdi>' in html
    assert OTHER_CITY not in html


def test_the_widget_opens_the_privacy_page_outside_its_frame(client):
    """The privacy page may not be framed: from the widget it opens in a new tab."""
    petition = make_petition()
    html = client.get(f"/fa/p/{petition.slug}/embed/").content.decode()
    assert elements(html, "a", href="/fa/privacy/", target="_blank", rel="noopener")


def test_one_click_from_a_cookie_older_than_the_choice_does_not_show_the_name(client):
    from django.core import signing

    from signatures import supporter

    petition = make_petition()
    old = {"name": "Zohreh Bahadori", "email": "z@example.com", "country": "IR", "locality": ""}
    client.cookies[supporter.COOKIE_NAME] = signing.dumps(old, salt=supporter.COOKIE_SALT)
    assert (
        client.post(f"/en/p/{petition.slug}/sign/", one_click_data(client, petition)).status_code
        == 302
    )
    assert Signature.objects.get(petition=petition).show_name is False


def remembered(client) -> dict:
    return signing.loads(client.cookies[supporter.COOKIE_NAME].value, salt=supporter.COOKIE_SALT)


def test_the_cookie_of_a_signer_in_iran_keeps_no_city(client):
    """The supporter cookie is signed, not encrypted: a seized phone would give up what it holds."""
    petition = make_petition()
    client.post(
        f"/fa/p/{petition.slug}/sign/",
        sign_form_data(petition, name="Sara Karimi", country="IR", locality=IRAN_CITY),
    )
    kept = remembered(client)
    assert (kept["name"], kept["country"], kept["locality"]) == ("Sara Karimi", "IR", "")

    # One click on the next petition signs without a city too.
    other = make_petition()
    client.post(f"/fa/p/{other.slug}/sign/", one_click_data(client, other))
    assert Signature.objects.get(petition=other).locality == ""


def test_the_cookie_of_a_signer_elsewhere_keeps_the_city_for_one_click(client):
    petition = make_petition()
    client.post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition, name="Tom Smith", country="GB", locality=OTHER_CITY),
    )
    assert remembered(client)["locality"] == OTHER_CITY


def test_a_stricter_list_at_signing_holds_after_the_petition_lists_more(client):
    """The organiser moves the public list from names to names and places, or from none to
    names: signers who signed before are shown only as much as they were promised."""
    petition = make_petition(signer_list="names")
    make_signature(petition, name="Tom Smith", locality="Kleinstadt-am-See")
    petition.signer_list = "full"
    petition.save()
    make_signature(petition, name="Ann Lee", locality=OTHER_CITY)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert '<bdi class="recent__name">Tom S.</bdi>' in html
    assert "Kleinstadt" not in html
    assert f"<bdi>{OTHER_CITY}</bdi>" in html

    unlisted = make_petition(signer_list="none")
    make_signature(unlisted, name="Mina Rad", show_name=True)
    unlisted.signer_list = "names"
    unlisted.save()
    assert "Mina" not in client.get(f"/en/p/{unlisted.slug}/").content.decode()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_show_my_name_starts_unticked_until_the_signer_ticks_it_without_javascript(
    client, language
):
    """Without the page's script nothing unticks the box when Iran is chosen (Tor Browser's
    "Safest" mode): so it starts unticked for everyone, and a signer in Iran who leaves it is
    not listed."""
    petition = make_petition()
    for path in ("", "embed/"):
        box = show_name_box(client.get(f"/{language}/p/{petition.slug}/{path}").content.decode())
        assert "checked" not in box
    data = sign_form_data(petition, name="Zohreh Bahadori", country="IR", show_name=None)
    assert client.post(f"/{language}/p/{petition.slug}/sign/", data).status_code == 302
    assert Signature.objects.get(petition=petition).show_name is False
