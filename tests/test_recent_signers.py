import datetime

import pytest
from django.utils import timezone

from tests.factories import make_petition, make_signature
from tests.html import elements

pytestmark = pytest.mark.django_db


def test_recent_signers_show_first_name_initial_city_and_when(client):
    petition = make_petition()
    make_signature(
        petition,
        name="Sara Rostami",
        email="sara.secret@example.com",
        locality="Tehran",
        created_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert '<bdi class="recent__name">Sara R.</bdi>' in html
    assert "<bdi>Tehran</bdi>" in html
    assert "ago" in html or "this hour" in html
    assert "sara.secret" not in html
    assert "Rostami" not in html


def test_recent_signers_in_persian_use_persian_digits_and_separator(client):
    petition = make_petition()
    make_signature(
        petition,
        name="سارا کریمی",
        locality="تهران",
        created_at=timezone.now() - datetime.timedelta(hours=3),
    )
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert '<bdi class="recent__name">سارا ک.</bdi>، <bdi>تهران</bdi>' in html
    assert "۳\u00a0ساعت پیش" in html


def test_signers_who_chose_not_to_be_shown_are_not_listed(client):
    petition = make_petition()
    make_signature(petition, name="Hidden Person", show_name=False)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "Hidden" not in html


def test_a_postcode_is_not_shown_as_a_place(client):
    petition = make_petition()
    make_signature(petition, name="Sara Karimi", locality="10115")
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "10115" not in html
    assert elements(html, "bdi", class_="recent__name")


def test_invalidated_signatures_are_not_listed(client):
    from signatures.models import Signature

    petition = make_petition()
    make_signature(petition, name="Spam Bot", status=Signature.Status.INVALIDATED)
    assert "Spam" not in client.get(f"/en/p/{petition.slug}/").content.decode()


def test_recent_signers_say_the_hour_they_signed_not_the_second(client):
    """A time to the second lets someone who watches the connections to the site match a
    listed name to a connection."""
    petition = make_petition()
    signed_at = timezone.now() - datetime.timedelta(hours=3)
    make_signature(petition, name="Sara Rostami", created_at=signed_at)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    (time,) = elements(html, "time", class_="recent__when")
    hour = signed_at.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    assert time["datetime"] == hour.isoformat()
    assert ("3\u00a0hours ago" in html) or ("4\u00a0hours ago" in html)
    assert "minute" not in html.split("recent__when")[1].split("</time>")[0]


def test_a_signer_just_signed_shows_as_this_hour(client):
    petition = make_petition()
    make_signature(petition, name="Sara Rostami")
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "this hour" in html
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert "همین ساعت" in html
