"""The petition page most readers get: rendered once a second per process, with each visitor's own
CSRF token and form start time put in (petitions/cache.py)."""

import re

import pytest
from django.test import Client

from petitions import cache as petition_cache
from petitions.models import Petition
from signatures.abuse import seconds_since
from signatures.models import Signature
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db


def form_tokens(html: str) -> tuple[str, str]:
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    started = re.search(r'name="started" value="([^"]+)"', html).group(1)
    return csrf, started


def test_each_visitor_gets_their_own_csrf_token_and_start_time():
    petition = make_petition()
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page_one = first.get(f"/en/p/{petition.slug}/")
    page_two = second.get(f"/en/p/{petition.slug}/")

    tokens_one, tokens_two = (
        form_tokens(page_one.content.decode()),
        form_tokens(page_two.content.decode()),
    )
    assert tokens_one[0] != tokens_two[0]
    assert page_one.cookies["csrftoken"].value != page_two.cookies["csrftoken"].value
    assert seconds_since(tokens_two[1]) is not None  # a real signed start time, not a hole
    for page in (page_one, page_two):
        assert petition_cache.CSRF_HOLE not in page.content.decode()
        assert petition_cache.STARTED_HOLE not in page.content.decode()


def test_a_visitor_can_sign_with_the_tokens_from_the_shared_page(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0
    petition = make_petition()
    Client().get(f"/en/p/{petition.slug}/")  # someone else fills the cache
    visitor = Client(enforce_csrf_checks=True)
    csrf, started = form_tokens(visitor.get(f"/en/p/{petition.slug}/").content.decode())

    data = sign_form_data(email="shared@example.com", started=started)
    response = visitor.post(f"/en/p/{petition.slug}/sign/", data | {"csrfmiddlewaretoken": csrf})

    assert response.status_code == 302
    assert Signature.objects.filter(petition=petition, email="shared@example.com").exists()


def test_warm_shared_page_makes_no_database_query(client, django_assert_num_queries):
    petition = make_petition()
    client.get(f"/fa/p/{petition.slug}/")
    with django_assert_num_queries(0):
        response = Client().get(f"/fa/p/{petition.slug}/")
    assert response.status_code == 200
    assert 'lang="fa" dir="rtl"' in response.content.decode()


def test_each_language_has_its_own_page(client):
    petition = make_petition()
    english = client.get(f"/en/p/{petition.slug}/").content.decode()
    persian = Client().get(f"/fa/p/{petition.slug}/").content.decode()
    assert petition.title_en in english
    assert 'lang="fa" dir="rtl"' in persian and 'lang="en" dir="ltr"' in english


def test_share_trackers_in_the_address_get_the_same_page(client):
    petition = make_petition()
    plain = client.get(f"/en/p/{petition.slug}/").content.decode()
    tracked = Client().get(f"/en/p/{petition.slug}/?fbclid=abc&utm_source=x").content.decode()
    assert "fbclid" not in tracked  # the language links point at the page itself
    strip = re.compile(r'value="[^"]+"')
    assert strip.sub("", plain) == strip.sub("", tracked)


def test_a_supporter_gets_their_own_one_click_page(client):
    first, second = make_petition(), make_petition()
    Client().get(f"/en/p/{second.slug}/")  # the shared page is cached
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(name="Sara Karimi"))

    html = client.get(f"/en/p/{second.slug}/").content.decode()
    assert "Sign as <bdi>Sara K.</bdi>" in html


def test_an_edited_petition_shows_at_once(client):
    petition = make_petition(title_en="Before")
    assert "Before" in client.get(f"/en/p/{petition.slug}/").content.decode()
    petition.title_en = "After"
    petition.save()
    assert "After" in Client().get(f"/en/p/{petition.slug}/").content.decode()


def test_a_draft_is_not_served_from_the_cache(client):
    petition = make_petition()
    client.get(f"/en/p/{petition.slug}/")
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.DRAFT)
    petition_cache.clear()  # what the other processes see a second later
    assert Client().get(f"/en/p/{petition.slug}/").status_code == 404
