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
    assert "5\u00a0minutes ago" in html
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
