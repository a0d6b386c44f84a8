"""The supporters' link: shown only on the starter's own page, unguessable, and a wrong key is a
404 that says nothing of whether the petition exists."""

import re

import pytest

from lib.urls import site_url
from petitions import cosponsors
from petitions.models import Petition
from tests.factories import as_starter, make_gathering_petition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _gate_on(settings):
    settings.COSPONSORS_REQUIRED = 5


def test_the_starters_page_shows_the_link_in_each_language_with_words_to_send(client):
    petition = make_gathering_petition()
    as_starter(client, petition)
    html = client.get(f"/en/my/{petition.slug}/").content.decode()
    for code in ("en", "fa"):
        assert site_url(cosponsors.link_path(petition, code)) in html
    assert 'data-copy="#supporters-url-fa"' in html
    assert "please read it and back it here" in html
    assert "لطفاً" in html  # the Persian message too


def test_the_link_is_a_long_keyed_hash_unique_to_each_petition():
    first, second = make_gathering_petition(), make_gathering_petition()
    key = cosponsors.link_key(first)
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert key != cosponsors.link_key(second)
    assert cosponsors.petition_for_link(first.slug, key) == first
    assert cosponsors.petition_for_link(second.slug, key) is None


def test_a_wrong_or_missing_key_is_not_found(client):
    petition = make_gathering_petition()
    key = cosponsors.link_key(petition)
    assert client.get(f"/en/support/{petition.slug}/{key}/").status_code == 200
    wrong = ("0" * 32, key[:-1] + ("0" if key[-1] != "0" else "1"), key[:16])
    for guess in wrong:
        assert client.get(f"/en/support/{petition.slug}/{guess}/").status_code == 404
    assert client.get(f"/en/support/no-such-petition/{key}/").status_code == 404


def test_the_page_is_private_and_unindexed(client):
    petition = make_gathering_petition()
    response = client.get(cosponsors.link_path(petition, "fa"))
    assert "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_erasing_the_starter_voids_the_link(client):
    petition = make_gathering_petition()
    path = cosponsors.link_path(petition, "en")
    Petition.objects.filter(pk=petition.pk).forget_starter(by="test")
    assert client.get(path).status_code == 404


def test_once_published_the_link_leads_to_the_public_page(client):
    petition = make_gathering_petition()
    path = cosponsors.link_path(petition, "en")
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.OPEN)
    response = client.get(path)
    assert response.status_code == 302 and response.url == petition.url_in("en")


def test_the_key_is_kept_out_of_the_logs():
    from lib.redaction import redact

    petition = make_gathering_petition()
    for language in ("en", "fa"):
        path = cosponsors.link_path(petition, language)
        logged = redact(f"Not Found: {path}")
        assert cosponsors.link_key(petition) not in logged
        assert logged.endswith("/<token>/")
