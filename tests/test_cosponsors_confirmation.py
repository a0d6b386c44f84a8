"""A supporter counts only once they confirm their address by email, never as the starter, and
once however many times or spellings they sign with."""

import re

import pytest
from django.core import mail

from petitions import cosponsors
from petitions.models import Cosponsor, Petition
from tests.factories import make_gathering_petition, sign_form_data

# The confirmation email is queued when the supporter's row commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _gate_on(settings):
    settings.COSPONSORS_REQUIRED = 5


def back(client, petition, language="fa", **fields):
    path = cosponsors.link_path(petition, language)
    return client.post(path, sign_form_data(petition, **fields))


def confirm_link(message) -> str:
    return re.search(r"http://testserver(/\S+/support/confirm/\S+/)", message.body).group(1)


def test_backing_sends_a_confirmation_email_and_counts_nothing_yet(client):
    petition = make_gathering_petition()
    response = back(client, petition, email="ali@example.com")
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["ali@example.com"]
    assert message.extra_headers["Content-Language"] == "fa"
    assert confirm_link(message).startswith("/fa/support/confirm/")
    assert cosponsors.supporters_count(petition) == 0


def test_opening_the_link_confirms_nothing_and_the_button_does(client):
    petition = make_gathering_petition()
    back(client, petition, email="ali@example.com")
    link = confirm_link(mail.outbox[0])
    page = client.get(link)
    assert page.status_code == 200 and "<form" in page.content.decode()
    assert cosponsors.supporters_count(petition) == 0
    assert client.post(link).status_code == 302
    assert cosponsors.supporters_count(petition) == 1
    again = client.get(link).content.decode()
    assert "<form method" not in again


def test_a_tampered_confirmation_link_is_refused(client):
    petition = make_gathering_petition()
    back(client, petition, email="ali@example.com")
    link = confirm_link(mail.outbox[0])
    assert client.post(link[:-3] + "xx/").status_code == 400
    assert cosponsors.supporters_count(petition) == 0


def test_the_starter_never_counts_as_their_own_supporter(client):
    petition = make_gathering_petition(starter_email="Sara.Karimi@Gmail.com")
    back(client, petition, email="sarakarimi+back@gmail.com")
    client.post(confirm_link(mail.outbox[0]))
    assert Cosponsor.objects.filter(confirmed_at__isnull=False).count() == 1
    assert cosponsors.supporters_count(petition) == 0


def test_one_address_counts_once_however_it_is_written(client, settings):
    settings.CONFIRMATION_RESEND_SECONDS = 0
    petition = make_gathering_petition()
    back(client, petition, email="Ali@Example.com")
    back(client, petition, email="ali@example.com")
    assert Cosponsor.objects.filter(petition=petition).count() == 1
    for message in mail.outbox:
        client.post(confirm_link(message))
    assert cosponsors.supporters_count(petition) == 1
    back(client, petition, email="ALI@example.com")  # after confirming: nothing changes
    assert cosponsors.supporters_count(petition) == 1
    assert Petition.objects.get(pk=petition.pk).status == Petition.Status.GATHERING
