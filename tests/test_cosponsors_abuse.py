"""Backing a petition has the sign form's defences: its bot check, the browser's word on where
the POST came from, and the same rate limits, tallied the same way."""

import time

import pytest

from lib.forms import form_token
from petitions import cosponsors
from petitions.models import Cosponsor
from signatures.models import BlockedAttempt
from tests.factories import make_gathering_petition, sign_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _gate_on(settings):
    settings.COSPONSORS_REQUIRED = 5


def back(client, petition, *, ip="198.51.100.7", language="en", headers=None, **fields):
    return client.post(
        cosponsors.link_path(petition, language),
        sign_form_data(petition, **fields),
        REMOTE_ADDR=ip,
        headers=headers or {},
    )


def test_a_filled_honeypot_is_refused_and_tallied(client):
    petition = make_gathering_petition()
    assert back(client, petition, website="http://spam.example").status_code == 400
    assert not Cosponsor.objects.exists()
    assert BlockedAttempt.objects.get().reason == "honeypot"


def test_a_form_sent_faster_than_a_person_types_is_refused(client, settings):
    settings.SIGN_MIN_FILL_SECONDS = 5
    petition = make_gathering_petition()
    response = back(client, petition, started=form_token(petition.pk, time.time()))
    assert response.status_code == 400
    assert not Cosponsor.objects.exists()
    assert BlockedAttempt.objects.get().reason == "too_fast"


def test_a_post_from_another_site_is_refused(client):
    petition = make_gathering_petition()
    response = back(client, petition, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert not Cosponsor.objects.exists()


def test_too_many_from_one_connection_are_refused_in_the_page_language(client, settings):
    settings.SIGN_RATE_PER_IP = "2/m"
    petition = make_gathering_petition()
    assert [back(client, petition).status_code for _ in range(2)] == [302, 302]
    refused = back(client, petition, language="fa")
    assert refused.status_code == 429
    assert "لطفاً چند دقیقه صبر کنید" in refused.content.decode()
    assert refused["Retry-After"]
    assert Cosponsor.objects.count() == 2
    assert BlockedAttempt.objects.get().reason == "rate_ip"
    assert back(client, petition, ip="203.0.113.9").status_code == 302


def test_a_flood_on_one_petition_is_capped_by_the_signing_limit(client, settings):
    settings.SIGN_RATE_PER_PETITION = "3/m"
    settings.SIGN_RATE_PER_IP = "100/m"
    petition = make_gathering_petition()
    statuses = [back(client, petition, ip=f"198.51.100.{n}").status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert BlockedAttempt.objects.get().reason == "rate_petition"
