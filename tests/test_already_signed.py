"""A supporter who signed a petition from this browser is told so on its page, with the share
links, instead of being offered "Sign as …" again: in the sign box the page's script
asks `me/` for, or without scripts on the page's `?form`."""

import pytest

from signatures.models import Signature
from tests.factories import make_petition, one_click_data, sign_form_data
from tests.html import elements

pytestmark = pytest.mark.django_db


def test_after_signing_the_same_petition_says_you_signed_with_share_links(client):
    petition = make_petition()
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, name="Sara Karimi"))

    html = client.get(f"/en/p/{petition.slug}/me/").content.decode()
    assert "You signed this petition." in html
    assert "Sign as <bdi>" not in html
    # Someone else on this browser can sign, once it forgets the first signer.
    assert [f for f in elements(html, "form", method="post") if "not-you" in f["action"]]
    shares = [a["href"] for a in elements(html, "a", class_="button button--secondary")]
    assert any(href.startswith("https://twitter.com/intent/tweet") for href in shares)
    assert any(f"%2Fen%2Fp%2F{petition.slug}%2F" in href for href in shares)


def test_persian_page_says_you_signed_in_persian(client):
    petition = make_petition()
    client.post(f"/fa/p/{petition.slug}/sign/", sign_form_data(petition))
    for own_box in (f"/fa/p/{petition.slug}/me/", f"/fa/p/{petition.slug}/?form"):
        assert "شما این کارزار را امضا کرده‌اید." in client.get(own_box).content.decode()


def test_other_petitions_still_offer_one_click(client):
    signed, other = make_petition(), make_petition()
    client.post(f"/en/p/{signed.slug}/sign/", sign_form_data(signed, name="Sara Karimi"))
    client.post(f"/en/p/{other.slug}/sign/", one_click_data(client, other))
    assert Signature.objects.filter(petition=other).exists()

    third = make_petition()
    html = client.get(f"/en/p/{third.slug}/me/").content.decode()
    assert "Sign as <bdi>Sara K.</bdi>" in html
    # Both petitions signed from this browser now say so.
    for petition in (signed, other):
        said = client.get(f"/en/p/{petition.slug}/me/").content.decode()
        assert "You signed this petition." in said


def test_what_says_you_signed_is_private_and_the_page_public(client):
    petition = make_petition()
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    for own_box in (f"/en/p/{petition.slug}/me/", f"/en/p/{petition.slug}/?form"):
        response = client.get(own_box)
        assert "You signed this petition." in response.content.decode()
        assert "private" in response["Cache-Control"], own_box
    page = client.get(f"/en/p/{petition.slug}/")
    assert "You signed" not in page.content.decode() and "public" in page["Cache-Control"]
